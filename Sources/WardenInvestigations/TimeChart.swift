public import WardenCore

/// The quick chart of a query's result: when a column holds times, the rows plotted over them, so
/// "events by hour" is a picture without a spreadsheet.
public struct TimeChart: Sendable, Equatable {
    /// The time column and the value column (nil: rows counted per time).
    public var timeColumn: String
    public var valueColumn: String?
    /// Points in time order: milliseconds since 1970 and the value (summed over rows at one time).
    public var points: [(at: Int64, value: Double)]

    public static func == (a: TimeChart, b: TimeChart) -> Bool {
        a.timeColumn == b.timeColumn && a.valueColumn == b.valueColumn && a.points.elementsEqual(b.points) { $0.at == $1.at && $0.value == $1.value }
    }

    /// Milliseconds since 1970 from a value: an RFC 3339 text (also `YYYY-MM-DDTHH:MMZ` and
    /// `YYYY-MM-DD`) or an integer of milliseconds after 2001 (so small counts are not taken for times).
    public static func time(_ value: QueryValue) -> Int64? {
        switch value {
        case .integer(let millis): return millis >= 978_307_200_000 && millis < 32_503_680_000_000 ? millis : nil
        case .text(let text):
            if let millis = Timestamp.parseRFC3339(text) { return millis }
            if text.count == 17, text.hasSuffix("Z"), let millis = Timestamp.parseRFC3339(String(text.dropLast()) + ":00Z") { return millis }
            if text.count == 10, let millis = Timestamp.parseRFC3339(text + "T00:00:00Z") { return millis }
            return nil
        default: return nil
        }
    }

    /// The chart for `result`, or nil when no column holds times in every row. The time column is the
    /// first whose every value is a time; the value column the first other whose every value is a number.
    public static func of(_ result: QueryResult) -> TimeChart? {
        guard !result.rows.isEmpty else { return nil }
        let columns = result.columns.indices
        guard let timeIndex = columns.first(where: { column in result.rows.allSatisfy { time($0[column]) != nil } }) else { return nil }
        let valueIndex = columns.first { column in column != timeIndex && result.rows.allSatisfy { $0[column].number != nil } }
        var sums: [Int64: Double] = [:]
        for row in result.rows {
            guard let at = time(row[timeIndex]) else { continue }
            sums[at, default: 0] += valueIndex.flatMap { row[$0].number } ?? 1
        }
        return TimeChart(timeColumn: result.columns[timeIndex], valueColumn: valueIndex.map { result.columns[$0] },
                         points: sums.sorted { $0.key < $1.key }.map { (at: $0.key, value: $0.value) })
    }
}
