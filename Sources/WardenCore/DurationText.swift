/// Durations as people write them in packs and on the command line: a whole number and a unit,
/// `s`, `m`, `h` or `d` (`90s`, `10m`, `24h`, `7d`).
public enum DurationText {
    /// Milliseconds, or nil when `text` is not such a duration (or is negative).
    public static func millis(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]
        guard let unit = text.last, let scale = units[unit], let value = Int64(text.dropLast()), value >= 0,
              value <= Int64.max / scale else { return nil }
        return value * scale
    }

    /// The shortest exact spelling of `millis` (`86400000` → `1d`, `5400000` → `90m`).
    public static func format(_ millis: Int64) -> String {
        for (unit, scale) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where millis % scale == 0 && millis > 0 {
            return "\(millis / scale)\(unit)"
        }
        return "\(millis)ms"
    }
}
