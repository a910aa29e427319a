import Crypto
import Foundation

/// SHA-256 as lowercase hex: model metadata, strategy texts, result files.
public enum Checksum {
    public static func sha256<D: DataProtocol>(_ bytes: D) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}
