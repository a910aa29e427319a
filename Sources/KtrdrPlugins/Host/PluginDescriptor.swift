import KtrdrAPI
import KtrdrCore
import KtrdrPluginABI

/// What a plugin file says about itself, read from its `ktrdr_plugin_info` after every
/// check has passed (`PluginDescriptor.check`).
public struct PluginDescriptor: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case strategy, model }
    public var kind: Kind
    public var name: String
    public var version: String
    public var description: String
    /// `major.minor` of the ABI the plugin was compiled against.
    public var abi: String
    public var buildSignature: String

    /// The ABI this host speaks.
    public static let hostABI = "\(KTRDR_PLUGIN_ABI_MAJOR).\(KTRDR_PLUGIN_ABI_MINOR)"

    /// Checks everything before anything in the plugin is called: magic, ABI major (equal)
    /// and minor (not newer than the host), struct size, kind, the table for the kind, name,
    /// and the build signature. Each refusal names the expected and the found value.
    static func check(_ p: UnsafePointer<ktrdr_plugin_info>) -> Result<PluginDescriptor, PluginRefusal> {
        // Read the fixed prefix first: a foreign struct may be shorter than ours.
        let magic = p.pointee.magic
        guard magic == KTRDR_PLUGIN_MAGIC else {
            return .failure(.init("bad magic 0x\(String(magic, radix: 16)): expected 0x\(String(KTRDR_PLUGIN_MAGIC, radix: 16)) (not a ktrdr plugin descriptor)"))
        }
        // The stable prefix (see ktrdr_plugin.h) names the plugin even when its ABI differs.
        let claimed = p.pointee.name.map { String(cString: $0) }.flatMap { Names.isValid($0) ? $0 : nil }
        func refuse(_ message: String) -> Result<PluginDescriptor, PluginRefusal> { .failure(PluginRefusal(message, name: claimed)) }
        let major = Int(p.pointee.abi_major), minor = Int(p.pointee.abi_minor)
        let found = "\(major).\(minor)"
        guard major == KTRDR_PLUGIN_ABI_MAJOR else {
            return refuse("plugin ABI \(found) is incompatible with host ABI \(hostABI): the major versions differ; rebuild the plugin against ktrdr_plugin.h \(hostABI)")
        }
        guard minor <= KTRDR_PLUGIN_ABI_MINOR else {
            return refuse("plugin ABI \(found) is newer than host ABI \(hostABI); upgrade ktrdrd or rebuild the plugin against \(hostABI)")
        }
        let size = Int(p.pointee.struct_size)
        guard size >= MemoryLayout<ktrdr_plugin_info>.size else {
            return refuse("descriptor struct_size \(size) is smaller than \(MemoryLayout<ktrdr_plugin_info>.size) bytes, which ABI \(found) defines")
        }
        guard let namePointer = p.pointee.name, let versionPointer = p.pointee.version else {
            return refuse("descriptor has no name or no version")
        }
        let name = String(cString: namePointer), version = String(cString: versionPointer)
        guard Names.isValid(name) else { return refuse("invalid plugin name '\(name)': expected [A-Za-z0-9._-]{1,32}") }
        let signature = p.pointee.build_signature.map { String(cString: $0) } ?? ""
        let fields = signatureFields(signature)
        if let swift = fields["swift"], swift != BuildInfo.swiftVersion {
            return refuse("plugin '\(name)' was built with Swift \(swift) but this host runs Swift \(BuildInfo.swiftVersion); Swift plugins must match the host's Swift runtime")
        }
        let kind: Kind
        switch p.pointee.kind {
        case Int32(KTRDR_PLUGIN_STRATEGY.rawValue):
            kind = .strategy
            guard let t = p.pointee.strategy?.pointee, t.create != nil, t.destroy != nil, t.warmup_bars != nil,
                  t.provides_confidence != nil, t.compute_signals != nil else {
                return refuse("strategy plugin '\(name)' has an incomplete function table (create, destroy, warmup_bars, provides_confidence, compute_signals)")
            }
        case Int32(KTRDR_PLUGIN_MODEL.rawValue):
            kind = .model
            guard let t = p.pointee.model?.pointee, t.load != nil, t.release != nil, t.predict != nil,
                  t.input_size != nil, t.output_size != nil, t.train != nil, t.set_threads != nil else {
                return refuse("model plugin '\(name)' has an incomplete function table (load, release, predict, input_size, output_size, train, set_threads)")
            }
        case let other:
            return refuse("unknown plugin kind \(other): expected 1 (strategy) or 2 (model)")
        }
        return .success(PluginDescriptor(kind: kind, name: name, version: version,
                                         description: p.pointee.description.map { String(cString: $0) } ?? "",
                                         abi: found, buildSignature: signature))
    }

    /// `key=value` pairs of a build signature such as `swift=6.3 libtorch=1.13.0`.
    static func signatureFields(_ signature: String) -> [String: String] {
        var out = [String: String]()
        for part in signature.split(separator: " ") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { out[String(kv[0])] = String(kv[1]) }
        }
        return out
    }
}

/// Why a plugin file was refused.
struct PluginRefusal: Error {
    let message: String
    /// The name the descriptor claims, when it could be read.
    let name: String?
    init(_ message: String, name: String? = nil) {
        self.message = message
        self.name = name
    }
}
