import CKernels

/// Which instruction-set variant of the kernels runs. Every level computes bitwise-identical
/// results; lowering the level is for testing and comparison only.
public enum KernelDispatch {
    public enum Level: Int32, Sendable, Comparable, CaseIterable {
        case portable = 0, avx2 = 1, avx512 = 2
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    /// Best level this CPU supports.
    public static let detected: Level = Level(rawValue: ck_detect_isa()) ?? .portable

    /// The level in use now.
    public static var active: Level { Level(rawValue: ck_active_isa()) ?? .portable }

    /// Caps the level (nil = use the detected one). Process-wide.
    public static var maximumLevel: Level? {
        get { let v = ck_get_isa_override(); return v < 0 ? nil : Level(rawValue: v) }
        set { ck_set_isa_override(newValue?.rawValue ?? -1) }
    }

    /// Forces the portable scalar kernels (process-wide).
    public static var forcePortable: Bool {
        get { maximumLevel == .portable }
        set { maximumLevel = newValue ? .portable : nil }
    }
}
