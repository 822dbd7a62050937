import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The global functions every chat template sees: jinja2's `range`, `dict`, `namespace`,
/// `joiner`, `cycler`, and transformers' `raise_exception` and `strftime_now`.
enum Globals {
    static let names: Set<String> = ["range", "dict", "namespace", "raise_exception", "strftime_now", "joiner", "cycler", "lipsum"]

    static func lookup(_ name: String) -> Value? {
        guard names.contains(name) else { return nil }
        return .builtin(Builtin(name: name) { interpreter, args, kwargs in
            try call(name, interpreter, args, kwargs)
        })
    }

    /// Python's `time.strftime` of a moment in local time (as `datetime.now().strftime`).
    static func strftime(_ format: String, _ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 512)
        #if canImport(Glibc)
        let count = Glibc.strftime(&buffer, buffer.count, format, &parts)
        #else
        let count = Darwin.strftime(&buffer, buffer.count, format, &parts)
        #endif
        guard count > 0 else { return "" }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func call(_ name: String, _ interpreter: Interpreter, _ args: [Value], _ kwargs: [(String, Value)]) throws -> Value {
        switch name {
        case "raise_exception":
            let message = args.first?.str ?? kwargs.first?.1.str ?? ""
            throw ChatTemplateError(message: message, kind: "TemplateError")
        case "strftime_now":
            guard let format = (args.first ?? kwargs.first?.1)?.stringValue else {
                throw Interpreter.typeError("strftime_now() argument must be str")
            }
            return .string(strftime(format, interpreter.now))
        case "range":
            let ints = try args.map { v -> Int in
                guard let i = v.intValue else { throw Interpreter.typeError("'\(v.typeName)' object cannot be interpreted as an integer") }
                return i
            }
            var start = 0, stop = 0, step = 1
            switch ints.count {
            case 1: stop = ints[0]
            case 2: start = ints[0]; stop = ints[1]
            case 3: start = ints[0]; stop = ints[1]; step = ints[2]
            default: throw Interpreter.typeError("range expected at most 3 arguments, got \(ints.count)")
            }
            guard step != 0 else { throw ChatTemplateError(message: "range() arg 3 must not be zero", kind: "ValueError") }
            let count = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
            guard count <= 100_000 else {
                throw ChatTemplateError(message: "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).", kind: "OverflowError")
            }
            return .array((0..<count).map { .int(start + $0 * step) })
        case "dict":
            var d = OrderedDict()
            if case .dict(let initial) = args.first { d = initial }
            for (k, v) in kwargs { d[k] = v }
            return .dict(d)
        case "namespace":
            var d = OrderedDict()
            if case .dict(let initial) = args.first { d = initial }
            for (k, v) in kwargs { d[k] = v }
            return .namespace(Namespace(d))
        case "joiner":
            let separator = args.first?.str ?? ", "
            let state = Namespace(OrderedDict())
            return .builtin(Builtin(name: "joiner") { _, _, _ in
                if state.attributes["used"] == nil {
                    state.attributes["used"] = .bool(true)
                    return .string("")
                }
                return .string(separator)
            })
        case "cycler":
            let items = args
            let state = Namespace(OrderedDict([("i", .int(0))]))
            var object = OrderedDict()
            object["next"] = .builtin(Builtin(name: "next") { _, _, _ in
                guard !items.isEmpty else { return .none }
                let i = state.attributes["i"]?.intValue ?? 0
                state.attributes["i"] = .int((i + 1) % items.count)
                return items[i]
            })
            return .dict(object)
        default:
            throw ChatTemplateError(message: "'\(name)' is not supported by Pagewise's chat templates", kind: "TemplateError")
        }
    }
}
