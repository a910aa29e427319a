/// Parquet: one row group, one uncompressed, PLAIN-encoded data page (v1) per column,
/// metadata in Thrift's compact protocol. Doubles are OPTIONAL (nil is null: an undefined
/// metric); the other kinds are REQUIRED. Read back with pyarrow in scenario SW1.
extension ExportTable {
    /// The bytes of one Parquet file.
    public func parquet() throws(KtrdrError) -> [UInt8] {
        let rows = columns.first?.count ?? 0
        guard columns.allSatisfy({ $0.count == rows }) else {
            throw .invalidRequest("parquet: columns of different lengths (\(columns.map { "\($0.name) \($0.count)" }.joined(separator: ", ")))")
        }
        var file: [UInt8] = Array("PAR1".utf8)
        var chunks = [(offset: Int, size: Int, column: Column)]()
        for column in columns {
            let data = Self.pageData(column)
            var header = CompactWriter()
            header.i32(1, 0)  // DATA_PAGE
            header.i32(2, Int32(data.count))
            header.i32(3, Int32(data.count))
            header.structField(5) { h in
                h.i32(1, Int32(rows))
                h.i32(2, 0)  // PLAIN
                h.i32(3, 3)  // RLE definition levels
                h.i32(4, 3)
            }
            header.stop()
            chunks.append((file.count, header.bytes.count + data.count, column))
            file += header.bytes
            file += data
        }
        var meta = CompactWriter()
        meta.i32(1, 1)
        meta.listField(2, .structure, count: columns.count + 1)
        meta.element { e in
            e.string(4, "schema")
            e.i32(5, Int32(columns.count))
        }
        for column in columns { meta.element { Self.schemaElement(column, &$0) } }
        meta.i64(3, Int64(rows))
        meta.listField(4, .structure, count: 1)
        meta.element { g in
            g.listField(1, .structure, count: chunks.count)
            for chunk in chunks {
                g.element { c in
                    c.i64(2, Int64(chunk.offset))
                    c.structField(3) { m in
                        m.i32(1, Self.physicalType(chunk.column))
                        m.listField(2, .i32, count: 2)
                        m.listI32([0, 3])  // PLAIN, RLE
                        m.listField(3, .binary, count: 1)
                        m.listString([chunk.column.name])
                        m.i32(4, 0)  // UNCOMPRESSED
                        m.i64(5, Int64(rows))
                        m.i64(6, Int64(chunk.size))
                        m.i64(7, Int64(chunk.size))
                        m.i64(9, Int64(chunk.offset))
                    }
                }
            }
            g.i64(2, Int64(chunks.reduce(0) { $0 + $1.size }))
            g.i64(3, Int64(rows))
        }
        meta.string(6, createdBy)
        meta.stop()
        file += meta.bytes
        withUnsafeBytes(of: UInt32(meta.bytes.count).littleEndian) { file += $0 }
        file += Array("PAR1".utf8)
        return file
    }

    static func physicalType(_ c: Column) -> Int32 {
        switch c {
        case .double: 5
        case .int64, .timestamp: 2
        case .string: 6
        }
    }

    static func schemaElement(_ c: Column, _ e: inout CompactWriter) {
        e.i32(1, physicalType(c))
        if case .double = c { e.i32(3, 1) } else { e.i32(3, 0) }  // OPTIONAL, REQUIRED
        e.string(4, c.name)
        switch c {
        case .string:
            e.i32(6, 0)  // UTF8
            e.structField(10) { l in l.structField(1) { _ in } }  // STRING
        case .timestamp:
            e.i32(6, 10)  // TIMESTAMP_MICROS
            e.structField(10) { l in
                l.structField(8) { t in
                    t.bool(1, true)
                    t.structField(2) { u in u.structField(2) { _ in } }  // MICROS
                }
            }
        case .double, .int64:
            break
        }
    }

    /// Definition levels (OPTIONAL columns: 4-byte length, RLE runs of bit width 1), then the
    /// present values, PLAIN.
    static func pageData(_ c: Column) -> [UInt8] {
        var out = [UInt8]()
        func append<T>(_ v: T) { withUnsafeBytes(of: v) { out += $0 } }
        switch c {
        case let .double(_, values):
            var levels = [UInt8]()
            var i = 0
            while i < values.count {
                let present = values[i] != nil
                var j = i
                while j < values.count, (values[j] != nil) == present { j += 1 }
                CompactWriter.varint(UInt64(j - i) << 1, into: &levels)
                levels.append(present ? 1 : 0)
                i = j
            }
            append(UInt32(levels.count).littleEndian)
            out += levels
            for v in values { if let v { append(v.bitPattern.littleEndian) } }
        case let .int64(_, values):
            for v in values { append(v.littleEndian) }
        case let .timestamp(_, seconds):
            for s in seconds { append((s &* 1_000_000).littleEndian) }
        case let .string(_, values):
            for s in values {
                let bytes = Array(s.utf8)
                append(UInt32(bytes.count).littleEndian)
                out += bytes
            }
        }
        return out
    }
}

/// Thrift's compact protocol, the parts Parquet metadata uses.
struct CompactWriter {
    enum ElementType: UInt8 { case i32 = 5, i64 = 6, binary = 8, structure = 12 }

    private(set) var bytes = [UInt8]()
    private var lastField: [Int16] = [0]

    static func varint(_ value: UInt64, into out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    private mutating func zigzag(_ v: Int64) { Self.varint(UInt64(bitPattern: (v << 1) ^ (v >> 63)), into: &bytes) }

    private mutating func field(_ id: Int16, _ type: UInt8) {
        let delta = id - lastField[lastField.count - 1]
        if delta > 0, delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type)
        } else {
            bytes.append(type)
            zigzag(Int64(id))
        }
        lastField[lastField.count - 1] = id
    }

    mutating func i32(_ id: Int16, _ v: Int32) { field(id, 5); zigzag(Int64(v)) }
    mutating func i64(_ id: Int16, _ v: Int64) { field(id, 6); zigzag(v) }
    mutating func bool(_ id: Int16, _ v: Bool) { field(id, v ? 1 : 2) }

    mutating func string(_ id: Int16, _ s: String) {
        field(id, 8)
        listString([s])
    }

    mutating func structField(_ id: Int16, _ body: (inout CompactWriter) -> Void) {
        field(id, 12)
        element(body)
    }

    /// A list field's header; its elements follow (`element`, `listI32`, `listString`).
    mutating func listField(_ id: Int16, _ type: ElementType, count: Int) {
        field(id, 9)
        if count < 15 { bytes.append(UInt8(count) << 4 | type.rawValue) } else {
            bytes.append(0xF0 | type.rawValue)
            Self.varint(UInt64(count), into: &bytes)
        }
    }

    /// A struct: its fields, then the stop byte.
    mutating func element(_ body: (inout CompactWriter) -> Void) {
        lastField.append(0)
        body(&self)
        bytes.append(0)
        lastField.removeLast()
    }

    mutating func listI32(_ values: [Int32]) { for v in values { zigzag(Int64(v)) } }

    mutating func listString(_ values: [String]) {
        for s in values {
            let utf8 = Array(s.utf8)
            Self.varint(UInt64(utf8.count), into: &bytes)
            bytes += utf8
        }
    }

    mutating func stop() { bytes.append(0) }
}
