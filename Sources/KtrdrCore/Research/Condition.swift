/// A `--where` condition over a sweep's parameters, such as `fast_period < slow_period` or
/// `slow_period >= 2 * fast_period and fast_period != 15`.
///
/// Grammar (usual precedence, left to right): `or`/`||`, `and`/`&&`, `not`/`!`, one comparison
/// (`< <= > >= == !=`), `+ -`, `* / %`, unary `-`, numbers, parameter names, parentheses.
/// A comparison is 1 when it holds and 0 when not; a condition holds when its value is not 0.
public struct Condition: Sendable, Equatable {
    public let text: String
    private let root: Expression

    indirect enum Expression: Sendable, Equatable {
        case number(Double)
        case parameter(Int)
        case negate(Expression)
        case not(Expression)
        case binary(String, Expression, Expression)
    }

    /// Parses `text` over `names` (a parameter's index is its position there). Every error
    /// names the place and what was expected; an unknown name gets the closest known one.
    public init(_ text: String, names: [String]) throws(KtrdrError) {
        var parser = Parser(text: Array(text.utf8), names: names)
        let root = try parser.parseOr()
        parser.skipSpace()
        guard parser.pos == parser.text.count else { throw parser.error("unexpected '\(parser.rest)'") }
        self.text = text
        self.root = root
    }

    public func holds(_ values: [Double]) -> Bool { Self.eval(root, values) != 0 }

    static func eval(_ e: Expression, _ v: [Double]) -> Double {
        switch e {
        case let .number(x): return x
        case let .parameter(i): return v[i]
        case let .negate(a): return -eval(a, v)
        case let .not(a): return eval(a, v) == 0 ? 1 : 0
        case let .binary(op, a, b):
            let x = eval(a, v)
            if op == "and" { return x != 0 && eval(b, v) != 0 ? 1 : 0 }
            if op == "or" { return x != 0 || eval(b, v) != 0 ? 1 : 0 }
            let y = eval(b, v)
            switch op {
            case "+": return x + y
            case "-": return x - y
            case "*": return x * y
            case "/": return x / y
            case "%": return x.truncatingRemainder(dividingBy: y)
            case "<": return x < y ? 1 : 0
            case "<=": return x <= y ? 1 : 0
            case ">": return x > y ? 1 : 0
            case ">=": return x >= y ? 1 : 0
            case "==": return x == y ? 1 : 0
            default: return x != y ? 1 : 0
            }
        }
    }

    private struct Parser {
        let text: [UInt8]
        let names: [String]
        var pos = 0

        var rest: String { String(decoding: text[min(pos, text.count)...].prefix(20), as: UTF8.self) }

        func error(_ message: String) -> KtrdrError {
            .invalidRequest("where: \(message) at character \(pos + 1) of '\(String(decoding: text, as: UTF8.self))'")
        }

        mutating func skipSpace() { while pos < text.count, text[pos] == 0x20 || text[pos] == 0x09 { pos += 1 } }

        /// Consumes `token` if it comes next (words only when not followed by a name character).
        mutating func take(_ token: String) -> Bool {
            skipSpace()
            let t = Array(token.utf8)
            guard pos + t.count <= text.count, Array(text[pos..<pos + t.count]) == t else { return false }
            if t[0].isLetter, pos + t.count < text.count, text[pos + t.count].isNameCharacter { return false }
            pos += t.count
            return true
        }

        mutating func parseOr() throws(KtrdrError) -> Expression {
            var left = try parseAnd()
            while take("or") || take("||") { left = .binary("or", left, try parseAnd()) }
            return left
        }

        mutating func parseAnd() throws(KtrdrError) -> Expression {
            var left = try parseNot()
            while take("and") || take("&&") { left = .binary("and", left, try parseNot()) }
            return left
        }

        mutating func parseNot() throws(KtrdrError) -> Expression {
            if take("not") { return .not(try parseNot()) }
            skipSpace()
            if pos + 1 < text.count, text[pos] == 0x21, text[pos + 1] != 0x3D { pos += 1; return .not(try parseNot()) }
            return try parseComparison()
        }

        mutating func parseComparison() throws(KtrdrError) -> Expression {
            let left = try parseSum()
            for op in ["<=", ">=", "==", "!=", "<", ">"] where take(op) {
                return .binary(op, left, try parseSum())
            }
            if take("=") { throw error("'=' is not a comparison (use '==')") }
            return left
        }

        mutating func parseSum() throws(KtrdrError) -> Expression {
            var left = try parseTerm()
            while true {
                if take("+") { left = .binary("+", left, try parseTerm()) } else if take("-") { left = .binary("-", left, try parseTerm()) } else { return left }
            }
        }

        mutating func parseTerm() throws(KtrdrError) -> Expression {
            var left = try parseUnary()
            while true {
                if take("*") { left = .binary("*", left, try parseUnary()) } else if take("/") { left = .binary("/", left, try parseUnary()) } else if take("%") {
                    left = .binary("%", left, try parseUnary())
                } else { return left }
            }
        }

        mutating func parseUnary() throws(KtrdrError) -> Expression {
            if take("-") { return .negate(try parseUnary()) }
            return try parseAtom()
        }

        mutating func parseAtom() throws(KtrdrError) -> Expression {
            skipSpace()
            guard pos < text.count else { throw error("expected a number, a parameter or '('") }
            if take("(") {
                let inner = try parseOr()
                guard take(")") else { throw error("expected ')'") }
                return inner
            }
            let start = pos
            if text[pos].isDigit || text[pos] == 0x2E {
                while pos < text.count, text[pos].isDigit || text[pos] == 0x2E || text[pos] == 0x65 || text[pos] == 0x45 { pos += 1 }
                guard let v = Double(String(decoding: text[start..<pos], as: UTF8.self)) else { pos = start; throw error("bad number") }
                return .number(v)
            }
            guard text[pos].isLetter else { throw error("unexpected '\(rest)'") }
            while pos < text.count, text[pos].isNameCharacter { pos += 1 }
            let name = String(decoding: text[start..<pos], as: UTF8.self)
            guard let index = names.firstIndex(of: name) else {
                pos = start
                let hint = Spelling.closest(to: name, in: names).map { " (did you mean '\($0)'?)" } ?? ""
                throw error("unknown parameter '\(name)'\(hint): the swept parameters are \(names.joined(separator: ", "))")
            }
            return .parameter(index)
        }
    }
}

private extension UInt8 {
    var isDigit: Bool { self >= 0x30 && self <= 0x39 }
    var isLetter: Bool { (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A) || self == 0x5F }
    var isNameCharacter: Bool { isLetter || isDigit || self == 0x2E }
}
