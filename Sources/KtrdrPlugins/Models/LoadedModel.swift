import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPluginABI

/// A model file loaded once by a model plugin, with its metadata. Strategies borrow it
/// through a `ktrdr_model_ref`; it is released when the last holder lets go.
public final class LoadedModel: @unchecked Sendable {
    public let directory: String
    public let metadata: ModelMetadata
    public let plugin: LoadedPlugin
    private let handle: UnsafeMutableRawPointer
    private let table: ktrdr_model_table

    init(directory: String, metadata: ModelMetadata, plugin: LoadedPlugin, file: String) throws(KtrdrError) {
        let table = plugin.modelTable
        var error = ktrdr_error()
        guard let handle = file.withCString({ table.load($0, &error) }) else {
            throw .modelInvalid(path: file, message: Self.summarise(String(cString: ktrdr_error_message(&error))))
        }
        self.directory = directory
        self.metadata = metadata
        self.plugin = plugin
        self.table = table
        self.handle = handle
        let inputs = Int(table.input_size(handle))
        if inputs >= 0 && inputs != metadata.inputSize {
            throw .modelInvalid(path: file, message: "the network takes \(inputs) inputs but metadata.json says input_size \(metadata.inputSize)")
        }
    }

    deinit { table.release(handle) }

    /// What a strategy plugin gets: the model plugin's own predict function and handle.
    var reference: ktrdr_model_ref {
        ktrdr_model_ref(context: handle, input_size: Int64(metadata.inputSize), output_size: Int64(metadata.outputClasses.count),
                        predict: table.predict)
    }

    /// Row-major `x` to class probabilities (`rows * classes`).
    public func predict(_ x: [Double], rows: Int) throws(KtrdrError) -> [Double] {
        let cols = metadata.inputSize, classes = metadata.outputClasses.count
        guard x.count == rows * cols else { throw .invalidRequest("expected \(rows * cols) feature values, got \(x.count)") }
        var out = [Double](repeating: 0, count: rows * classes)
        var error = ktrdr_error()
        let rc = x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in table.predict(handle, xp.baseAddress, Int64(rows), Int64(cols), op.baseAddress, &error) }
        }
        if rc != 0 { throw .modelInvalid(path: directory, message: String(cString: ktrdr_error_message(&error))) }
        return out
    }

    /// libtorch messages carry C++ stack traces; keep the first meaningful line.
    static func summarise(_ message: String) -> String {
        let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let kept = lines.prefix { !$0.hasPrefix("Exception raised from") && !$0.hasPrefix("frame #") }
        let text = kept.joined(separator: " ")
        return text.count > 400 ? String(text.prefix(400)) + "…" : text
    }
}
