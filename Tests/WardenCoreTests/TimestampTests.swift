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
}
