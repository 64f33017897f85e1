import WeftMeshFuzzing

/// libFuzzer entry point: every mesh decoder gets the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    MeshDecoderFuzzing.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}
