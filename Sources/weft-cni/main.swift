#if canImport(Glibc)
import Glibc
#endif
import WeftCNI

// The weft CNI plugin (installed as `weft` in the CNI bin directory by `weft setup-cni`): the
// command in the environment, the network configuration on stdin, the result or a CNI error
// object on stdout.
var input: [UInt8] = []
var chunk = [UInt8](repeating: 0, count: 64 << 10)
while input.count <= 1 << 20 {
    let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
    if n < 0, errno == EINTR { continue }
    guard n > 0 else { break }
    input += chunk[..<n]
}
var environment: [String: String] = [:]
var entry = environ
while let pointer = entry.pointee {
    let pair = String(cString: pointer)
    if let eq = pair.firstIndex(of: "=") { environment[String(pair[..<eq])] = String(pair[pair.index(after: eq)...]) }
    entry += 1
}
let (output, success) = CNIPlugin().run(environment: environment, stdin: input)
output.withUnsafeBytes { bytes in
    var offset = 0
    while offset < bytes.count {
        let n = write(1, bytes.baseAddress! + offset, bytes.count - offset)
        if n < 0, errno == EINTR { continue }
        guard n > 0 else { break }
        offset += n
    }
}
exit(success ? 0 : 1)
