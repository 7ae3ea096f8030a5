public import WardenCore

/// One rating in a calibration session: a rater (a reviewer, a QA auditor, or a model named like
/// `model:sms-spam`, measured on the same footing) put an item in a category.
public struct Rating: Sendable, Equatable, Codable {
    public var item: String
    public var rater: String
    public var category: String

    public init(item: String, rater: String, category: String) {
        self.item = item
        self.rater = rater
        self.category = category
    }
}

/// The agreement coefficients a calibration report gives (nil where one is undefined: fewer than two
/// ratings of any item, or everyone always chose one category).
public struct Coefficients: Sendable, Equatable, Codable {
    public var percentAgreement: Double?
    public var fleissKappa: Double?
    public var krippendorffAlpha: Double?
    public var gwetAC1: Double?

    public init(_ counts: [[Int]], categories: Int? = nil) {
        percentAgreement = Agreement.percent(counts)
        fleissKappa = Agreement.fleissKappa(counts)
        krippendorffAlpha = Agreement.krippendorffAlpha(counts)
        gwetAC1 = Agreement.gwetAC1(counts, categories: categories)
    }
}

/// What a calibration session shows: how far raters agree overall and per category, how each rater
/// compares with the answer (the gold answer where an item has one, otherwise the consensus of the
/// other raters), and the items people disagree on most — the ones to discuss.
///
/// Rules, decided here: a rater's later rating of an item replaces the earlier one; gold answers are
/// the key, not a rater, so they never count in the agreement coefficients; the consensus an answer
/// is checked against leaves the rater out (nobody agrees with themselves) and is the strict
/// majority category of the others, so an item where the others are split has no consensus and is
/// not scored for that rater.
public struct CalibrationReport: Sendable, Equatable, Codable {
    public struct Category: Sendable, Equatable, Codable {
        public var name: String
        public var ratings: Int
        public var share: Double
        /// This category against the rest (Fleiss' per-category kappa is `fleissKappa` here).
        public var agreement: Coefficients
    }

    public struct Rater: Sendable, Equatable, Codable {
        public var name: String
        public var rated: Int
        /// Agreement with the answer over items that have one (gold or consensus).
        public var agreement: AccuracyRow
        /// Cohen's kappa of this rater against the answer.
        public var kappa: Double?
        /// Per category of the answer: how often this rater gave it (a rater weak on one category shows here).
        public var byCategory: [AccuracyRow]
    }

    public struct Item: Sendable, Equatable, Codable {
        public var item: String
        /// Ratings per category, in the report's category order.
        public var counts: [Int]
        /// The share of rater pairs that agree on this item.
        public var agreement: Double
        public var consensus: String?
        public var gold: String?
    }

    public var items: Int
    public var raters: Int
    public var ratings: Int
    public var categories: [String]
    public var overall: Coefficients
    public var perCategory: [Category]
    public var perRater: [Rater]
    /// Items rated at least twice, least agreement first (at most the limit asked for).
    public var contested: [Item]
    /// Rater × category cells below the target beyond noise, when a target was given.
    public var flags: [Flag]

    public struct Flag: Sendable, Equatable, Codable {
        public var rater: String
        /// Nil: the rater's overall agreement.
        public var category: String?
        public var accuracy: Double
        public var interval: Interval
    }

    public init(ratings input: [Rating], gold: [String: String] = [:], categories known: [String] = [],
                confidence: Double = 0.95, target: Double? = nil, contestedLimit: Int = 10) {
        // Later ratings replace earlier ones by the same rater.
        var latest: [String: [String: String]] = [:]
        var itemOrder: [String] = []
        var raterOrder: [String] = []
        var seenRaters = Set<String>()
        for rating in input {
            if latest[rating.item] == nil { itemOrder.append(rating.item) }
            if seenRaters.insert(rating.rater).inserted { raterOrder.append(rating.rater) }
            latest[rating.item, default: [:]][rating.rater] = rating.category
        }
        let unseen = Set(input.map(\.category)).union(gold.values).subtracting(known).sorted()
        let categories = known + unseen
        let index = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) })
        let q = categories.count

        let counts: [[Int]] = itemOrder.map { item in
            var row = [Int](repeating: 0, count: q)
            for category in latest[item]!.values { row[index[category]!] += 1 }
            return row
        }
        let total = counts.reduce(0) { $0 + $1.reduce(0, +) }

        self.items = itemOrder.count
        self.raters = raterOrder.count
        self.ratings = total
        self.categories = categories
        self.overall = Coefficients(counts, categories: q)
        self.perCategory = categories.enumerated().map { k, name in
            let n = counts.reduce(0) { $0 + $1[k] }
            return Category(name: name, ratings: n, share: total == 0 ? 0 : Double(n) / Double(total),
                            agreement: Coefficients(Agreement.collapse(counts, to: k), categories: 2))
        }

        // The answer each rater is checked against, per item.
        func answer(_ item: String, for rater: String) -> String? {
            if let known = gold[item] { return known }
            var tally: [String: Int] = [:]
            var others = 0
            for (other, category) in latest[item]! where other != rater {
                tally[category, default: 0] += 1
                others += 1
            }
            guard let (category, votes) = tally.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }),
                  votes * 2 > others else { return nil }
            return category
        }

        var flags: [Flag] = []
        self.perRater = raterOrder.map { rater in
            var outcomes: [(group: String, correct: Bool)] = []
            var table = [[Int]](repeating: [Int](repeating: 0, count: q), count: q)
            var rated = 0
            for item in itemOrder {
                guard let given = latest[item]![rater] else { continue }
                rated += 1
                guard let expected = answer(item, for: rater) else { continue }
                outcomes.append((expected, given == expected))
                table[index[given]!][index[expected]!] += 1
            }
            let agreed = outcomes.filter(\.correct).count
            let row = AccuracyRow(group: rater, correct: agreed, checked: outcomes.count, confidence: confidence, target: target)
            let byCategory = Accuracy.table(outcomes, confidence: confidence, target: target)
                .sorted { index[$0.group]! < index[$1.group]! }
            if row.belowTarget == true, let accuracy = row.accuracy, let interval = row.interval {
                flags.append(Flag(rater: rater, category: nil, accuracy: accuracy, interval: interval))
            }
            for cell in byCategory where cell.belowTarget == true {
                flags.append(Flag(rater: rater, category: cell.group, accuracy: cell.accuracy ?? 0, interval: cell.interval ?? Interval(lower: 0, upper: 0)))
            }
            return Rater(name: rater, rated: rated, agreement: row, kappa: Agreement.cohen(table)?.kappa, byCategory: byCategory)
        }
        self.flags = flags

        var contested: [(position: Int, item: Item)] = []
        for (position, item) in itemOrder.enumerated() {
            let row = counts[position]
            let m = row.reduce(0, +)
            guard m >= 2 else { continue }
            let agreement = Double(row.reduce(0) { $0 + $1 * ($1 - 1) }) / Double(m * (m - 1))
            let top = row.enumerated().max { $0.element < $1.element || ($0.element == $1.element && $0.offset > $1.offset) }!
            let consensus = top.element * 2 > m ? categories[top.offset] : nil
            contested.append((position, Item(item: item, counts: row, agreement: agreement, consensus: consensus, gold: gold[item])))
        }
        // Least agreement first; among equals, the item more people rated, then the earlier one.
        contested.sort { ($0.item.agreement, -$0.item.counts.reduce(0, +), $0.position) < ($1.item.agreement, -$1.item.counts.reduce(0, +), $1.position) }
        self.contested = contested.prefix(max(0, contestedLimit)).map(\.item)
    }
}
