/// Instants as integer milliseconds since the Unix epoch (UTC), with a strict RFC 3339 parser
/// and formatter that work on bytes, so intake never goes through `DateFormatter`.
public enum Timestamp {
    /// A week in milliseconds.
    public static let week: Int64 = 7 * 86_400_000

    /// The start of the ISO week (Monday 00:00 UTC) holding `millis`, before 1970 too.
    public static func startOfWeek(_ millis: Int64) -> Int64 {
        // 1970-01-01 was a Thursday, so weeks start 4 days after a multiple of seven days.
        let monday: Int64 = 4 * 86_400_000
        let shifted = millis - monday
        return (shifted >= 0 ? shifted / week : (shifted - week + 1) / week) * week + monday
    }

    /// Parses `2026-11-23T10:00:00Z`, `2026-11-23T10:00:00.123+02:00` and the like.
    /// Returns nil for anything that is not a complete, valid RFC 3339 date-time with an offset.
    public static func parseRFC3339<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> Int64?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var index = bytes.startIndex
        let end = bytes.endIndex

        func digits(_ count: Int) -> Int? {
            guard end - index >= count else { return nil }
            var value = 0
            for _ in 0..<count {
                let digit = Int(bytes[index]) - 48
                guard digit >= 0, digit <= 9 else { return nil }
                value = value * 10 + digit
                index += 1
            }
            return value
        }
        func expect(_ allowed: UInt8...) -> Bool {
            guard index < end, allowed.contains(bytes[index]) else { return false }
            index += 1
            return true
        }

        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")),
              let day = digits(2), expect(UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")),
              let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2), expect(UInt8(ascii: ":")),
              let second = digits(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 60
        else { return nil }

        var millis = 0
        if index < end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var fractionDigits = 0
            while index < end, bytes[index] >= 48, bytes[index] <= 57 {
                if fractionDigits < 3 { millis = millis * 10 + Int(bytes[index] - 48) }
                fractionDigits += 1
                index += 1
            }
            guard fractionDigits > 0, fractionDigits <= 9 else { return nil }
            var scale = fractionDigits
            while scale < 3 {
                millis *= 10
                scale += 1
            }
        }

        guard index < end else { return nil }
        var offsetSeconds = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHour = digits(2), expect(UInt8(ascii: ":")), let offsetMinute = digits(2),
                  offsetHour <= 23, offsetMinute <= 59
            else { return nil }
            offsetSeconds = sign * (offsetHour * 3600 + offsetMinute * 60)
        default:
            return nil
        }
        guard index == end else { return nil }

        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetSeconds
        return Int64(seconds) * 1000 + Int64(millis)
    }

    /// Parses a string; see ``parseRFC3339(_:)-(Bytes)``.
    public static func parseRFC3339(_ text: String) -> Int64? {
        parseRFC3339(Array(text.utf8))
    }

    /// Formats milliseconds since the epoch as `2026-11-23T10:00:00.123Z` (milliseconds omitted when zero).
    public static func formatRFC3339(_ millis: Int64) -> String {
        let totalSeconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let fraction = Int(millis - totalSeconds * 1000)
        let days = totalSeconds >= 0 ? totalSeconds / 86_400 : (totalSeconds - 86_399) / 86_400
        let secondOfDay = Int(totalSeconds - days * 86_400)
        let (year, month, day) = civilFromDays(Int(days))
        var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T"
        text += pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        if fraction != 0 { text += "." + pad(fraction, 3) }
        return text + "Z"
    }

    /// Writes the UTC hour of `millis` as `2026-11-23T10:00Z` (17 bytes) or, with `hourly` false,
    /// its day as `2026-11-23` (10 bytes) into `buffer`, without allocating; returns the length.
    /// For per-row SQL functions over millions of rows.
    public static func writeUTC(_ millis: Int64, hourly: Bool, into buffer: UnsafeMutablePointer<UInt8>) -> Int {
        let totalSeconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let days = totalSeconds >= 0 ? totalSeconds / 86_400 : (totalSeconds - 86_399) / 86_400
        let hour = Int(totalSeconds - days * 86_400) / 3600
        let (year, month, day) = civilFromDays(Int(days))
        func put(_ value: Int, _ width: Int, at offset: Int) {
            var rest = value
            for index in stride(from: offset + width - 1, through: offset, by: -1) {
                buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
        }
        guard (0...9999).contains(year) else {
            // Outside four-digit years, the general formatter's spelling.
            let text = Array(formatRFC3339(millis).utf8.prefix(hourly ? 13 : 10)) + (hourly ? Array(":00Z".utf8) : [])
            for (index, byte) in text.prefix(17).enumerated() { buffer[index] = byte }
            return min(text.count, 17)
        }
        put(year, 4, at: 0)
        buffer[4] = UInt8(ascii: "-")
        put(month, 2, at: 5)
        buffer[7] = UInt8(ascii: "-")
        put(day, 2, at: 8)
        guard hourly else { return 10 }
        buffer[10] = UInt8(ascii: "T")
        put(hour, 2, at: 11)
        buffer[13] = UInt8(ascii: ":")
        buffer[14] = UInt8(ascii: "0")
        buffer[15] = UInt8(ascii: "0")
        buffer[16] = UInt8(ascii: "Z")
        return 17
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
