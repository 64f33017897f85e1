#if canImport(Glibc)
import Glibc
#endif
import WeftCNI
import WeftSystem

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
let (output, success) = CNIPlugin().run(environment: currentEnvironment(), stdin: input)
writeAll(1, output)
exit(success ? 0 : 1)
