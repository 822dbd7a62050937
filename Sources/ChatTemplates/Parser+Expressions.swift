/// Expressions, with jinja2's precedence: conditional, or, and, not, comparisons, + -, ~,
/// * / // %, **, unary, then postfix (attributes, subscripts, calls), filters and tests.
extension Parser {
    func isTupleEnd(_ extraEnd: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .eof: return true
        case .op(let o): return o == ")"
        case .name(let n): return extraEnd.contains(n)
        default: return false
        }
    }

    mutating func parseTuple(withCondExpr: Bool = true, extraEnd: Set<String> = [], explicitParentheses: Bool = false) throws -> Expr {
        var items: [Expr] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(extraEnd) { break }
            items.append(withCondExpr ? try parseExpression() : try parseOr())
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses {
                throw fail("Expected an expression, got '\(Parser.describe(current.kind))'")
            }
        }
        return .tuple(items)
    }

    mutating func parseExpression() throws -> Expr {
        try enter()
        defer { depth -= 1 }
        let mark = hardUnknown.count
        var expr = try parseOr()
        while isName("if") {
            _ = advance()
            hardUnknown.removeSubrange(mark...)
            let savedSoft = soft
            soft = true
            defer { soft = savedSoft }
            let test = try parseOr()
            var otherwise: Expr?
            if isName("else") {
                _ = advance()
                otherwise = try parseExpression()
            }
            expr = .conditional(test: test, then: expr, otherwise: otherwise)
        }
        return expr
    }

    mutating func parseOr() throws -> Expr {
        var left = try parseAnd()
        while isName("or") {
            _ = advance()
            left = .or(left, try parseAnd())
        }
        return left
    }

    mutating func parseAnd() throws -> Expr {
        var left = try parseNot()
        while isName("and") {
            _ = advance()
            left = .and(left, try parseNot())
        }
        return left
    }

    mutating func parseNot() throws -> Expr {
        if isName("not") {
            _ = advance()
            try enter()
            defer { depth -= 1 }
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws -> Expr {
        let line = self.line
        let expr = try parseMath1()
        var ops: [(String, Expr)] = []
        while true {
            if case .op(let o) = current.kind, ["==", "!=", "<", ">", "<=", ">="].contains(o) {
                _ = advance()
                ops.append((o, try parseMath1()))
            } else if isName("in") {
                _ = advance()
                ops.append(("in", try parseMath1()))
            } else if isName("not") && isName("in", peek()) {
                _ = advance()
                _ = advance()
                ops.append(("notin", try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? expr : .compare(expr, ops, line: line)
    }

    mutating func parseMath1() throws -> Expr {
        var left = try parseConcat()
        while case .op(let o) = current.kind, o == "+" || o == "-" {
            let line = advance().line
            left = .binary(o, left, try parseConcat(), line: line)
        }
        return left
    }

    mutating func parseConcat() throws -> Expr {
        var items = [try parseMath2()]
        while isOp("~") {
            _ = advance()
            items.append(try parseMath2())
        }
        return items.count == 1 ? items[0] : .concat(items)
    }

    mutating func parseMath2() throws -> Expr {
        var left = try parsePow()
        while case .op(let o) = current.kind, ["*", "/", "//", "%"].contains(o) {
            let line = advance().line
            left = .binary(o, left, try parsePow(), line: line)
        }
        return left
    }

    mutating func parsePow() throws -> Expr {
        var left = try parseUnary()
        while isOp("**") {
            let line = advance().line
            left = .binary("**", left, try parseUnary(), line: line)
        }
        return left
    }

    mutating func parseUnary(withFilter: Bool = true) throws -> Expr {
        try enter()
        defer { depth -= 1 }
        var node: Expr
        if isOp("-") {
            let line = advance().line
            node = .negate(try parseUnary(withFilter: false), line: line)
        } else if isOp("+") {
            let line = advance().line
            node = .plus(try parseUnary(withFilter: false), line: line)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpr(node) }
        return node
    }

    mutating func parsePrimary() throws -> Expr {
        let token = current
        switch token.kind {
        case .name(let n):
            _ = advance()
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n, line: token.line)
            }
        case .string(var s):
            _ = advance()
            while case .string(let more) = current.kind {
                s += more
                _ = advance()
            }
            return .literal(.string(s))
        case .integer(let i):
            _ = advance()
            return .literal(.int(i))
        case .float(let d):
            _ = advance()
            return .literal(.double(d))
        case .op("("):
            _ = advance()
            let expr = try parseTuple(explicitParentheses: true)
            try expectOp(")")
            return expr
        case .op("["):
            _ = advance()
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            _ = advance()
            return .list(items)
        case .op("{"):
            _ = advance()
            var pairs: [(Expr, Expr)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expectOp(":")
                pairs.append((key, try parseExpression()))
            }
            _ = advance()
            return .dict(pairs)
        default:
            throw fail("unexpected '\(Parser.describe(token.kind))'")
        }
    }

    mutating func parsePostfix(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            if isOp(".") {
                let line = advance().line
                switch current.kind {
                case .name(let n):
                    _ = advance()
                    node = .attribute(node, n, line: line)
                case .integer(let i):
                    _ = advance()
                    node = .item(node, .literal(.int(i)), line: line)
                default:
                    throw fail("expected name or number")
                }
            } else if isOp("[") {
                let line = advance().line
                node = try parseSubscript(node, line: line)
            } else if isOp("(") {
                let line = current.line
                node = .call(node, try parseCallArguments(), line: line)
            } else {
                return node
            }
        }
    }

    mutating func parseSubscript(_ node: Expr, line: Int) throws -> Expr {
        var parts: [Expr?] = []
        var isSlice = false
        var current: Expr?
        while !isOp("]") {
            if isOp(":") {
                _ = advance()
                parts.append(current)
                current = nil
                isSlice = true
                continue
            }
            if isOp(",") { throw fail("tuple subscripts are not supported") }
            current = try parseExpression()
        }
        _ = advance()
        if !isSlice {
            guard let index = current else { throw fail("expected a subscript") }
            return .item(node, index, line: line)
        }
        parts.append(current)
        guard parts.count <= 3 else { throw fail("invalid slice") }
        func part(_ i: Int) -> Expr? { i < parts.count ? parts[i] : nil }
        return .slice(node, start: part(0), stop: part(1), step: part(2), line: line)
    }

    mutating func parseCallArguments() throws -> Arguments {
        try expectOp("(")
        var arguments = Arguments()
        var first = true
        while !isOp(")") {
            if !first { try expectOp(",") }
            first = false
            if isOp(")") { break }
            if isOp("*") || isOp("**") { throw fail("*args and **kwargs in calls are not supported") }
            if case .name(let n) = current.kind, isOp("=", peek()) {
                _ = advance()
                _ = advance()
                arguments.keyword.append((n, try parseExpression()))
            } else {
                if !arguments.keyword.isEmpty { throw fail("positional argument follows keyword argument") }
                arguments.positional.append(try parseExpression())
            }
        }
        _ = advance()
        return arguments
    }

    mutating func parseFilterCall() throws -> FilterCall {
        let line = current.line
        var name = try expectName()
        while isOp(".") {
            _ = advance()
            name += "." + (try expectName())
        }
        if !Filters.isKnown(name) && !soft {
            hardUnknown.append(ChatTemplateError(message: "No filter named '\(name)'.", line: line, kind: "TemplateAssertionError"))
        }
        let arguments = isOp("(") ? try parseCallArguments() : Arguments()
        return FilterCall(name: name, arguments: arguments, line: line)
    }

    mutating func parseFilterExpr(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            if isOp("|") {
                _ = advance()
                let f = try parseFilterCall()
                node = .filter(node, name: f.name, f.arguments, line: f.line)
            } else if isName("is") {
                let line = advance().line
                var negated = false
                if isName("not") {
                    _ = advance()
                    negated = true
                }
                var name = try expectName()
                while isOp(".") {
                    _ = advance()
                    name += "." + (try expectName())
                }
                if !TestFunctions.isKnown(name) && !soft {
                    hardUnknown.append(ChatTemplateError(message: "No test named '\(name)'.", line: line, kind: "TemplateAssertionError"))
                }
                var arguments = Arguments()
                switch current.kind {
                case .op("("):
                    arguments = try parseCallArguments()
                case .name(let n) where !["else", "or", "and"].contains(n):
                    if n == "is" { throw fail("You cannot chain multiple tests with is") }
                    arguments.positional = [try parsePostfix(try parsePrimary())]
                case .string, .integer, .float, .op("["), .op("{"):
                    arguments.positional = [try parsePostfix(try parsePrimary())]
                default: break
                }
                node = .test(node, name: name, arguments, line: line)
                if negated { node = .not(node) }
            } else if isOp("(") {
                let line = current.line
                node = .call(node, try parseCallArguments(), line: line)
            } else {
                return node
            }
        }
    }
}
