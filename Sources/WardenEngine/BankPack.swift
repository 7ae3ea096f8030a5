import Foundation
public import WardenInvestigations
import WardenRules
import Yams

/// The hash banks a pack declares in `banks.yaml`: each bank's kind, threshold and whether it is
/// negative, with an optional seed file (HMA JSON lines, in the pack) imported when Warden creates
/// the bank. Banks can also be made through the API; the pack's are created at start when missing
/// (never changed or emptied from the pack once they exist: their hashes are data), and the
/// pack's rule tests match against the seeds.
public struct BankPack: Sendable {
    public struct Declared: Sendable {
        public var bank: HashBank
        /// The seed file's hashes (read and checked when the pack loads).
        public var seed: [ImportedHash]
        public var seedFile: String?
    }

    public var banks: [Declared] = []

    struct File: Decodable {
        struct Bank: Decodable {
            var name: String
            var kind: String
            var threshold: Int?
            var negative: Bool?
            var description: String?
            var seed: String?
        }
        var banks: [Bank]
    }

    /// Loads `banks.yaml` (absent: no banks), reporting every problem.
    static func load(directory: String, problems: inout [PolicyPackError.Problem]) -> BankPack {
        let path = (directory as NSString).appendingPathComponent("banks.yaml")
        guard let data = FileManager.default.contents(atPath: path) else { return BankPack() }
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: String(decoding: data, as: UTF8.self))
        } catch let error as DecodingError {
            problems.append(.init(decoding: error, file: "banks.yaml"))
            return BankPack()
        } catch {
            problems.append(.init(file: "banks.yaml", message: "is not valid YAML: \(error)"))
            return BankPack()
        }
        var pack = BankPack()
        var seen = Set<String>()
        for (index, item) in file.banks.enumerated() {
            let where_ = "banks[\(index)]"
            guard let kind = HashKind(rawValue: item.kind) else {
                problems.append(.init(file: "banks.yaml", path: "\(where_).kind", message: "is one of pdq, md5, sha256, not \(item.kind)"))
                continue
            }
            let threshold = item.threshold ?? (kind.isPerceptual ? HashBank.defaultPDQThreshold : 0)
            do {
                try HashBank.check(name: item.name, kind: kind, threshold: threshold)
            } catch {
                problems.append(.init(file: "banks.yaml", path: where_, message: error.description))
                continue
            }
            guard seen.insert(item.name).inserted else {
                problems.append(.init(file: "banks.yaml", path: "\(where_).name", message: "bank \(item.name) is declared twice"))
                continue
            }
            var seed: [ImportedHash] = []
            if let seedFile = item.seed {
                let seedPath = (directory as NSString).appendingPathComponent(seedFile)
                guard !seedFile.contains(".."), let text = FileManager.default.contents(atPath: seedPath).map({ String(decoding: $0, as: UTF8.self) }) else {
                    problems.append(.init(file: "banks.yaml", path: "\(where_).seed", message: "seed file \(seedFile) is missing from the pack"))
                    continue
                }
                do {
                    seed = try HashExchange.read(text, format: .hma, kind: kind).hashes
                } catch {
                    problems.append(.init(file: seedFile, message: error.description))
                    continue
                }
            }
            let bank = HashBank(name: item.name, kind: kind, threshold: threshold, negative: item.negative ?? false,
                                description: item.description ?? "", createdBy: "system:pack", createdAt: 0)
            pack.banks.append(Declared(bank: bank, seed: seed, seedFile: item.seed))
        }
        return pack
    }

    /// The seeds as a matcher, for the pack's rule tests.
    public var seedMatcher: HashMatcher {
        HashMatcher(banks.map { declared in
            BankIndex(bank: declared.bank, entries: declared.seed.enumerated().map { offset, hash in
                BankEntry(id: Int64(offset + 1), bank: declared.bank.name, hash: hash.hash, opinion: hash.opinion ?? .unreviewed, tags: hash.tags,
                          contentID: hash.contentID, addedBy: "system:pack", addedAt: 0)
            })
        })
    }
}

/// Lookups over the pack's bank seeds only (rule tests).
struct SeedLookups: RuleLookups {
    let matcher: HashMatcher
    func hashDistance(bank: String, hash: String) -> Int? { matcher.distance(bank: bank, hash: hash) }
    func derivedList(_ query: String, contains item: String) -> Bool? { nil }
}
