import Testing
@testable import WardenCore

@Suite struct TimestampTests {
    @Test func parsesUTCAndOffsets() {
        #expect(Timestamp.parseRFC3339("1970-01-01T00:00:00Z") == 0)
        #expect(Timestamp.parseRFC3339("2026-11-23T10:00:00Z") == 1_795_428_000_000)
        #expect(Timestamp.parseRFC3339("2026-11-23T12:00:00+02:00") == 1_795_428_000_000)
        #expect(Timestamp.parseRFC3339("2026-11-23T10:00:00.5Z") == 1_795_428_000_500)
        #expect(Timestamp.parseRFC3339("2026-11-23T10:00:00.123456789Z") == 1_795_428_000_123)
        #expect(Timestamp.parseRFC3339("2024-02-29T00:00:00Z") != nil)
    }

    @Test(arguments: [
        "", "yesterday", "2026-11-23", "2026-11-23T10:00:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T10:60:00Z", "2026-11-23T10:00:00.Z",
        "2026-11-23T10:00:00+2:00", "2026-11-23T10:00:00Zjunk", "１２３４-11-23T10:00:00Z",
    ])
    func rejectsInvalid(_ text: String) {
        #expect(Timestamp.parseRFC3339(text) == nil)
    }

    @Test func formatRoundTrips() {
        for millis: Int64 in [0, 1_795_428_000_000, 1_795_428_000_123, 951_782_400_000, 4_102_444_799_999] {
            #expect(Timestamp.parseRFC3339(Timestamp.formatRFC3339(millis)) == millis)
        }
        #expect(Timestamp.formatRFC3339(1_795_428_000_500) == "2026-11-23T10:00:00.500Z")
    }

    /// The allocation-free hour and day the SQL console's hour() and day() write agree with the
    /// general formatter on every kind of instant (before 1970, leap days, the last millisecond of a year).
    @Test(arguments: [Int64(0), -1, -86_400_000, 951_782_400_000, 1_795_428_000_500, 1_798_761_599_999, 253_402_300_799_999, -62_135_596_800_000])
    func hoursAndDaysAreWrittenAsTheFormatterSpellsThem(millis: Int64) {
        let full = Timestamp.formatRFC3339(millis)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 17) { buffer in
            let hour = Timestamp.writeUTC(millis, hourly: true, into: buffer.baseAddress!)
            #expect(String(decoding: UnsafeBufferPointer(start: buffer.baseAddress!, count: hour), as: UTF8.self) == full.prefix(13) + ":00Z")
            let day = Timestamp.writeUTC(millis, hourly: false, into: buffer.baseAddress!)
            #expect(String(decoding: UnsafeBufferPointer(start: buffer.baseAddress!, count: day), as: UTF8.self) == full.prefix(10))
        }
    }
}
