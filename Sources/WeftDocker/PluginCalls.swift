/// The JSON bodies of libnetwork's remote driver protocol (network driver and IPAM driver,
/// plugin API v1.2) that the weft driver reads and writes. Unknown fields are ignored; a
/// missing required one makes the call fail with an `Err` answer.
enum PluginCalls {
    struct RequestPool: Decodable {
        var AddressSpace: String?
        var Pool: String?
        var SubPool: String?
        var V6: Bool?
    }

    struct RequestPoolAnswer: Encodable {
        var PoolID: String
        var Pool: String
        var Data: [String: String]
    }

    struct ReleasePool: Decodable { var PoolID: String }

    struct RequestAddress: Decodable {
        var PoolID: String
        var Address: String?
        var Options: [String: String]?
    }

    struct RequestAddressAnswer: Encodable {
        var Address: String
        var Data: [String: String] = [:]
    }

    struct ReleaseAddress: Decodable {
        var PoolID: String
        var Address: String
    }

    struct CreateNetwork: Decodable {
        var NetworkID: String
        var IPv4Data: [IPData]?

        struct IPData: Decodable {
            var Pool: String?
            var Gateway: String?
        }
    }

    struct NetworkOnly: Decodable { var NetworkID: String }

    struct CreateEndpoint: Decodable {
        var NetworkID: String
        var EndpointID: String
        var Interface: EndpointInterface?
    }

    struct EndpointInterface: Codable {
        var Address: String?
        var AddressIPv6: String?
        var MacAddress: String?
    }

    struct CreateEndpointAnswer: Encodable { var Interface: EndpointInterface? }

    struct Endpoint: Decodable {
        var NetworkID: String
        var EndpointID: String
    }

    struct Join: Decodable {
        var NetworkID: String
        var EndpointID: String
        var SandboxKey: String
    }

    struct JoinAnswer: Encodable {
        var InterfaceName: InterfaceName
        var DisableGatewayService = true
        var StaticRoutes: [StaticRoute]

        struct InterfaceName: Encodable {
            var SrcName: String
            var DstPrefix: String
        }

        struct StaticRoute: Encodable {
            var Destination: String
            /// 1: on-link (connected), no next hop.
            var RouteType: Int
        }
    }

    struct Err: Encodable { var Err: String }
}

/// What the Docker engine's API says about a network's containers (`GET /networks/ID`) and a
/// container's aliases (`GET /containers/ID/json`): enough to name an endpoint in the DNS.
enum EngineCalls {
    struct Network: Decodable {
        var Name: String
        var Containers: [String: Member]?

        struct Member: Decodable {
            var Name: String
            var EndpointID: String
        }
    }

    struct Container: Decodable {
        var NetworkSettings: Settings?

        struct Settings: Decodable { var Networks: [String: Attachment]? }

        struct Attachment: Decodable {
            var EndpointID: String?
            var Aliases: [String]?
        }
    }
}
