import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPluginABI
import Synchronization

/// One loaded generation of a plugin file. It is never unloaded (Swift code must not be
/// dlclosed); a reload adds a newer generation beside it. Operations hold it while they run.
public final class LoadedPlugin: Sendable {
    public let descriptor: PluginDescriptor
    /// The file in the plugins directory it was loaded from.
    public let file: String
    /// 1 for the first load of this name, +1 per reload that brought a new build.
    public let generation: Int
    public let loadedAt: Date
    /// Immutable static data of the plugin image, which is never unmapped.
    nonisolated(unsafe) let info: UnsafePointer<ktrdr_plugin_info>
    private let users = Mutex<Set<String>>([])

    init(descriptor: PluginDescriptor, file: String, generation: Int, info: UnsafePointer<ktrdr_plugin_info>) {
        self.descriptor = descriptor
        self.file = file
        self.generation = generation
        self.loadedAt = Date()
        self.info = info
    }

    var strategyTable: ktrdr_strategy_table { info.pointee.strategy!.pointee }
    var modelTable: ktrdr_model_table { info.pointee.model!.pointee }

    /// Records that operation `id` runs on this generation, until `release(id)`.
    public func acquire(_ id: String) { _ = users.withLock { $0.insert(id) } }
    public func release(_ id: String) { _ = users.withLock { $0.remove(id) } }
    /// Operations running on this generation now.
    public var operations: [String] { users.withLock { $0.sorted() } }
}

