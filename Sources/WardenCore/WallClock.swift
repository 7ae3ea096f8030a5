import Foundation

/// The time source of everything time-dependent, injected so tests control it.
public protocol WallClock: Sendable {
    /// Now, in milliseconds since the Unix epoch.
    func nowMillis() -> Int64
}

/// The system clock.
public struct SystemWallClock: WallClock {
    /// Creates the system clock.
    public init() {}

    public func nowMillis() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
