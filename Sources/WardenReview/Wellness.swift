/// Limits on how much sensitive content one reviewer sees in a day (`queues.yaml`'s top-level
/// `wellness`): which categories count as sensitive, how many such cases a reviewer may claim in
/// a day before claim-next hands them only other work, and how often to prompt a break.
public struct ExposurePolicy: Sendable, Equatable {
    /// Categories (with their sub-categories) whose cases count.
    public var sensitiveCategories: [String]
    /// Most sensitive cases one reviewer claims per day (UTC), if capped.
    public var dailyCap: Int?
    /// Prompt a break after every this many sensitive cases.
    public var breakEvery: Int?

    public init(sensitiveCategories: [String] = [], dailyCap: Int? = nil, breakEvery: Int? = nil) {
        self.sensitiveCategories = sensitiveCategories
        self.dailyCap = dailyCap
        self.breakEvery = breakEvery
    }

    /// No categories are sensitive.
    public static let none = ExposurePolicy()

    public func isSensitive(_ category: String) -> Bool {
        sensitiveCategories.contains { category == $0 || category.hasPrefix($0 + ".") }
    }

    /// Where a reviewer stands, from the categories of the cases they claimed today.
    public struct Standing: Sendable, Equatable {
        /// Sensitive cases claimed today.
        public var sensitive: Int
        /// The daily cap, if any.
        public var cap: Int?
        /// Whether the cap is reached: claim-next gives only other work.
        public var overCap: Bool
        /// Whether a break is due now (the count just reached a multiple of `breakEvery`).
        public var breakDue: Bool
    }

    /// `claimedToday` counts today's claims by the case's category.
    public func standing(claimedToday claims: [String: Int]) -> Standing {
        let sensitive = claims.reduce(0) { total, claim in isSensitive(claim.key) ? total + claim.value : total }
        let overCap = dailyCap.map { sensitive >= $0 } ?? false
        let breakDue = breakEvery.map { sensitive > 0 && sensitive % $0 == 0 } ?? false
        return Standing(sensitive: sensitive, cap: dailyCap, overCap: overCap, breakDue: breakDue)
    }

    /// Whether claim-next must count the reviewer's claims today: only a daily cap on sensitive
    /// categories makes it pass anything over.
    public var limitsClaims: Bool { dailyCap != nil && !sensitiveCategories.isEmpty }

    /// The categories (with their sub-categories) claim-next passes over for a reviewer who claimed
    /// `claims` today: the sensitive ones once the cap is reached, none before.
    public func avoided(claimedToday claims: [String: Int]) -> [String] {
        standing(claimedToday: claims).overCap ? sensitiveCategories : []
    }

    /// The start of the UTC day holding `now` (exposure counts per day).
    public static func startOfDay(_ now: Int64) -> Int64 { now - ((now % 86_400_000) + 86_400_000) % 86_400_000 }
}
