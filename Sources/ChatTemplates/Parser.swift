/// Builds statements and expressions from tokens, with jinja2's grammar and precedence.
struct Parser {
    let tokens: [Token]
    var index = 0
    var depth = 0
    /// Inside an `if` or a conditional expression jinja2 defers "no such filter/test" to render time.
    var soft = false
    /// Unknown filters and tests outside soft scopes: jinja2 refuses the template for these.
    var hardUnknown: [ChatTemplateError] = []
    /// Nesting deeper than this is refused (hostile input must not exhaust the stack).
    static let maxDepth = 64

    init(tokens: [Token]) { self.tokens = tokens }

    // MARK: - Stream

    var current: Token { tokens[min(index, tokens.count - 1)] }
    var line: Int { current.line }

    func peek(_ offset: Int = 1) -> Token { tokens[min(index + offset, tokens.count - 1)] }

    mutating func advance() -> Token {
        let t = current
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    func fail(_ message: String, line: Int? = nil) -> ChatTemplateError {
        ChatTemplateError(message: message, line: line ?? self.line, kind: "TemplateSyntaxError")
    }

    func isName(_ word: String, _ token: Token? = nil) -> Bool {
        if case .name(let n) = (token ?? current).kind { return n == word }
        return false
    }

    func isOp(_ op: String, _ token: Token? = nil) -> Bool {
        if case .op(let o) = (token ?? current).kind { return o == op }
        return false
    }

    static func describe(_ kind: Token.Kind) -> String {
        switch kind {
        case .data: return "template data / text"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case .name(let n): return n
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .op(let o): return o
        case .eof: return "end of template"
        }
    }

    mutating func expectOp(_ op: String) throws {
        guard isOp(op) else { throw fail("expected token '\(op)', got '\(Parser.describe(current.kind))'") }
        _ = advance()
    }

    mutating func expectName() throws -> String {
        guard case .name(let n) = current.kind else {
            throw fail("expected token 'name', got '\(Parser.describe(current.kind))'")
        }
        _ = advance()
        return n
    }

    mutating func expectBlockEnd() throws {
        guard current.kind == .blockEnd else {
            throw fail("expected token 'end of statement block', got '\(Parser.describe(current.kind))'")
        }
        _ = advance()
    }

    mutating func enter() throws {
        depth += 1
        if depth > Parser.maxDepth { throw fail("template nests deeper than \(Parser.maxDepth) levels") }
    }

    // MARK: - Statements

    mutating func parseTemplate() throws -> [Stmt] {
        let (body, end) = try subparse(until: [])
        if let end { throw fail("Encountered unknown tag '\(end)'.") }
        if let unknown = hardUnknown.first { throw unknown }
        return body
    }

    /// Parses statements until a block tag whose name is in `until` (left current) or the end.
    mutating func subparse(until: Set<String>, opener: (String, Int)? = nil) throws -> ([Stmt], String?) {
        try enter()
        defer { depth -= 1 }
        var body: [Stmt] = []
        while true {
            let token = current
            switch token.kind {
            case .data(let text):
                _ = advance()
                body.append(.text(text))
            case .variableBegin:
                _ = advance()
                let expr = try parseTuple()
                guard current.kind == .variableEnd else {
                    throw fail("expected token 'end of print statement', got '\(Parser.describe(current.kind))'")
                }
                _ = advance()
                body.append(.output(expr, line: token.line))
            case .blockBegin:
                _ = advance()
                if case .name(let n) = current.kind, until.contains(n) {
                    return (body, n)
                }
                if case .name(let n) = current.kind, n.hasPrefix("end") {
                    if let opener {
                        throw fail("Encountered unknown tag '\(n)'. Jinja was looking for the following tags: \(Parser.quoteList(until)). The innermost block that needs to be closed is '\(opener.0)'.")
                    }
                    throw fail("Encountered unknown tag '\(n)'.")
                }
                body.append(contentsOf: try parseStatement())
            case .eof:
                if let opener {
                    throw fail("Unexpected end of template. Jinja was looking for the following tags: \(Parser.quoteList(until)). The innermost block that needs to be closed is '\(opener.0)'.", line: token.line)
                }
                return (body, nil)
            default:
                throw fail("unexpected '\(Parser.describe(token.kind))'")
            }
        }
    }

    static func quoteList(_ names: Set<String>) -> String {
        names.sorted().map { "'\($0)'" }.joined(separator: " or ")
    }

    /// Parses the body of a block up to one of `ends`, consuming that end tag's name (not its `%}`).
    mutating func block(_ opener: String, line: Int, ends: Set<String>) throws -> ([Stmt], String) {
        let (body, end) = try subparse(until: ends, opener: (opener, line))
        guard let end else { throw fail("Unexpected end of template.", line: line) }
        _ = advance()
        return (body, end)
    }

    mutating func parseStatement() throws -> [Stmt] {
        let token = current
        guard case .name(let keyword) = token.kind else {
            throw fail("tag name expected")
        }
        let line = token.line
        _ = advance()
        switch keyword {
        case "if":
            let savedSoft = soft
            soft = true
            defer { soft = savedSoft }
            var branches: [(Expr, [Stmt])] = []
            var condition = try parseTuple(withCondExpr: true)
            try expectBlockEnd()
            while true {
                let (body, end) = try block("if", line: line, ends: ["elif", "else", "endif"])
                branches.append((condition, body))
                if end == "elif" {
                    condition = try parseTuple(withCondExpr: true)
                    try expectBlockEnd()
                    continue
                }
                if end == "else" {
                    try expectBlockEnd()
                    let (otherwise, _) = try block("if", line: line, ends: ["endif"])
                    try expectBlockEnd()
                    return [.ifChain(branches, otherwise: otherwise)]
                }
                try expectBlockEnd()
                return [.ifChain(branches, otherwise: [])]
            }
        case "for":
            let target = try parseAssignTarget(allowNamespace: false, extraEnd: ["in"])
            guard isName("in") else { throw fail("expected token 'in', got '\(Parser.describe(current.kind))'") }
            _ = advance()
            let iterable = try parseTuple(withCondExpr: false, extraEnd: ["recursive"])
            var condition: Expr?
            if isName("if") {
                _ = advance()
                condition = try parseExpression()
            }
            if isName("recursive") { throw fail("recursive for loops are not supported by Pagewise's chat templates") }
            try expectBlockEnd()
            let savedSoft = soft
            soft = false
            defer { soft = savedSoft }
            let (body, end) = try block("for", line: line, ends: ["endfor", "else"])
            var otherwise: [Stmt] = []
            if end == "else" {
                try expectBlockEnd()
                (otherwise, _) = try block("for", line: line, ends: ["endfor"])
            }
            try expectBlockEnd()
            return [.forLoop(target: target, iterable: iterable, condition: condition, body: body, otherwise: otherwise, line: line)]
        case "set":
            let target = try parseAssignTarget(allowNamespace: true, extraEnd: [])
            if isOp("=") {
                _ = advance()
                let value = try parseTuple()
                try expectBlockEnd()
                return [.set(target, value, line: line)]
            }
            var filters: [FilterCall] = []
            while isOp("|") {
                _ = advance()
                filters.append(try parseFilterCall())
            }
            try expectBlockEnd()
            let savedSoft = soft
            soft = false
            defer { soft = savedSoft }
            let (body, _) = try block("set", line: line, ends: ["endset"])
            try expectBlockEnd()
            return [.setBlock(target, filters: filters, body: body, line: line)]
        case "macro":
            let name = try expectName()
            let parameters = try parseSignature()
            try expectBlockEnd()
            let savedSoft = soft
            soft = false
            defer { soft = savedSoft }
            let (body, _) = try block("macro", line: line, ends: ["endmacro"])
            if case .name = current.kind { _ = advance() }
            try expectBlockEnd()
            return [.macro(MacroDefinition(name: name, parameters: parameters, body: body))]
        case "call":
            var parameters: [(String, Expr?)] = []
            if isOp("(") { parameters = try parseSignature() }
            let call = try parseExpression()
            guard case .call = call else { throw fail("expected call", line: line) }
            try expectBlockEnd()
            let savedSoft = soft
            soft = false
            defer { soft = savedSoft }
            let (body, _) = try block("call", line: line, ends: ["endcall"])
            try expectBlockEnd()
            return [.callBlock(caller: MacroDefinition(name: "caller", parameters: parameters, body: body), call: call, line: line)]
        case "filter":
            var filters = [try parseFilterCall()]
            while isOp("|") {
                _ = advance()
                filters.append(try parseFilterCall())
            }
            try expectBlockEnd()
            let savedSoft = soft
            soft = false
            defer { soft = savedSoft }
            let (body, _) = try block("filter", line: line, ends: ["endfilter"])
            try expectBlockEnd()
            return [.filterBlock(filters, body: body)]
        case "generation":
            try expectBlockEnd()
            let savedSoft = soft
            soft = false
            defer { soft = savedSoft }
            let (body, _) = try block("generation", line: line, ends: ["endgeneration"])
            try expectBlockEnd()
            return [.generation(body)]
        case "break", "continue":
            try expectBlockEnd()
            return [keyword == "break" ? .breakLoop(line: line) : .continueLoop(line: line)]
        case "with":
            var assignments: [(AssignTarget, Expr)] = []
            while current.kind != .blockEnd {
                if !assignments.isEmpty { try expectOp(",") }
                let target = try parseAssignTarget(allowNamespace: false, extraEnd: [])
                try expectOp("=")
                assignments.append((target, try parseExpression()))
            }
            try expectBlockEnd()
            let savedSoft = soft
            soft = false
            defer { soft = savedSoft }
            let (body, _) = try block("with", line: line, ends: ["endwith"])
            try expectBlockEnd()
            return [.with(assignments, body: body)]
        case "include", "import", "from", "extends", "block", "autoescape", "trans", "pluralize":
            throw fail("'\(keyword)' tags are not supported by Pagewise's chat templates", line: line)
        default:
            throw fail("Encountered unknown tag '\(keyword)'.", line: line)
        }
    }

    mutating func parseSignature() throws -> [(String, Expr?)] {
        try expectOp("(")
        var parameters: [(String, Expr?)] = []
        while !isOp(")") {
            if !parameters.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let name = try expectName()
            if isOp("=") {
                _ = advance()
                parameters.append((name, try parseExpression()))
            } else {
                parameters.append((name, nil))
            }
        }
        _ = advance()
        return parameters
    }

    mutating func parseAssignTarget(allowNamespace: Bool, extraEnd: Set<String>) throws -> AssignTarget {
        var targets: [AssignTarget] = []
        var sawComma = false
        while true {
            if isOp("(") {
                _ = advance()
                targets.append(try parseAssignTarget(allowNamespace: false, extraEnd: []))
                try expectOp(")")
            } else {
                let name = try expectName()
                if allowNamespace && isOp(".") {
                    _ = advance()
                    targets.append(.namespaceAttribute(name, try expectName()))
                } else {
                    if ["true", "false", "none", "True", "False", "None"].contains(name) {
                        throw fail("Can't assign to \(name)")
                    }
                    targets.append(.name(name))
                }
            }
            guard isOp(",") else { break }
            sawComma = true
            _ = advance()
            if case .name(let n) = current.kind, extraEnd.contains(n) { break }
            if current.kind == .blockEnd || isOp("=") || isOp(")") { break }
        }
        if !sawComma, let only = targets.first { return only }
        return .tuple(targets)
    }
}
