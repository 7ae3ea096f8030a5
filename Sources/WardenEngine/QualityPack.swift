import Foundation
public import WardenQuality
import Yams

/// The quality half of a policy pack, `quality.yaml` (optional): the error taxonomy QA reviewers
/// score decisions against, and the accuracy a team is held to. A pack without it has
/// ``ErrorType/standard`` and no target.
public struct QualityPack: Sendable {
    public var errorTypes: [ErrorType] = ErrorType.standard
    /// The accuracy QA reports compare against (rows whose whole interval is below it are flagged).
    public var targetAccuracy: Double?
    /// Training and certification per queue (`certification:` in quality.yaml).
    public var certification: [String: CertificationRule] = [:]
    /// The share of a queue's claim-next answers that are golden items mixed in unseen (`golden_mix:`).
    public var goldenMix: [String: Double] = [:]

    /// How a queue's training runs and what certifies: `items` golden items, `threshold` of them
    /// right; when `required`, only people certified for the queue claim its work.
    public struct CertificationRule: Sendable, Equatable {
        public var queue: String
        public var threshold: Double
        public var items: Int
        public var required: Bool

        public init(queue: String, threshold: Double, items: Int, required: Bool) {
            self.queue = queue
            self.threshold = threshold
            self.items = items
            self.required = required
        }
    }

    public init(errorTypes: [ErrorType] = ErrorType.standard, targetAccuracy: Double? = nil, certification: [String: CertificationRule] = [:]) {
        self.errorTypes = errorTypes
        self.targetAccuracy = targetAccuracy
        self.certification = certification
    }

    /// Whether `queue` gives its work only to people certified for it.
    public func requiresCertification(_ queue: String) -> Bool { certification[queue]?.required == true }

    struct File: Decodable {
        struct Error: Decodable {
            var id: String
            var name: String
            var description: String?
        }
        struct Rule: Decodable {
            var threshold: Double
            var items: Int
            var required: Bool?
        }
        var errorTypes: [Error]?
        var targetAccuracy: Double?
        var certification: [String: Rule]?
        var goldenMix: [String: Double]?
        enum CodingKeys: String, CodingKey { case errorTypes = "error_types", targetAccuracy = "target_accuracy", certification, goldenMix = "golden_mix" }
    }

    static func load(directory: String, queues: Set<String>, problems: inout [PolicyPackError.Problem]) -> QualityPack {
        let path = (directory as NSString).appendingPathComponent("quality.yaml")
        guard let data = FileManager.default.contents(atPath: path) else { return QualityPack() }
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: String(decoding: data, as: UTF8.self))
        } catch let error as DecodingError {
            problems.append(.init(decoding: error, file: "quality.yaml"))
            return QualityPack()
        } catch {
            problems.append(.init(file: "quality.yaml", message: "is not valid YAML: \(error)"))
            return QualityPack()
        }
        var pack = QualityPack()
        if let target = file.targetAccuracy {
            if target > 0 && target < 1 {
                pack.targetAccuracy = target
            } else {
                problems.append(.init(file: "quality.yaml", path: "target_accuracy", message: "is a fraction between 0 and 1 such as 0.95, not \(target)"))
            }
        }
        for (queue, rule) in (file.certification ?? [:]).sorted(by: { $0.key < $1.key }) {
            let path = "certification.\(queue)"
            guard queues.contains(queue) else {
                problems.append(.init(file: "quality.yaml", path: path, message: "\(queue) is not a queue of queues.yaml (\(queues.sorted().joined(separator: ", ")))"))
                continue
            }
            guard rule.threshold > 0, rule.threshold <= 1 else {
                problems.append(.init(file: "quality.yaml", path: "\(path).threshold", message: "is the share of right answers that certifies, above 0 and at most 1, not \(rule.threshold)"))
                continue
            }
            guard (1...CalibrationSession.maximumItems).contains(rule.items) else {
                problems.append(.init(file: "quality.yaml", path: "\(path).items", message: "is how many golden items a training run has, 1 to \(CalibrationSession.maximumItems), not \(rule.items)"))
                continue
            }
            pack.certification[queue] = CertificationRule(queue: queue, threshold: rule.threshold, items: rule.items, required: rule.required ?? false)
        }
        for (queue, rate) in (file.goldenMix ?? [:]).sorted(by: { $0.key < $1.key }) {
            let path = "golden_mix.\(queue)"
            guard queues.contains(queue) else {
                problems.append(.init(file: "quality.yaml", path: path, message: "\(queue) is not a queue of queues.yaml (\(queues.sorted().joined(separator: ", ")))"))
                continue
            }
            guard rate > 0, rate <= 1 else {
                problems.append(.init(file: "quality.yaml", path: path, message: "is the share of claims that get a golden item, above 0 and at most 1 (0.02 is one in fifty), not \(rate)"))
                continue
            }
            pack.goldenMix[queue] = rate
        }
        if let types = file.errorTypes {
            var seen = Set<String>()
            var kept: [ErrorType] = []
            for (index, type) in types.enumerated() {
                let path = "error_types[\(index)]"
                guard type.id.range(of: "^[a-z][a-z0-9_]{0,63}$", options: .regularExpression) != nil else {
                    problems.append(.init(file: "quality.yaml", path: "\(path).id", message: "is lower-case letters, digits and _ (at most 64), starting with a letter, not \(type.id)"))
                    continue
                }
                guard seen.insert(type.id).inserted else {
                    problems.append(.init(file: "quality.yaml", path: "\(path).id", message: "error type \(type.id) is declared twice"))
                    continue
                }
                guard !type.name.trimmingCharacters(in: .whitespaces).isEmpty, type.name.count <= 200 else {
                    problems.append(.init(file: "quality.yaml", path: "\(path).name", message: "is a name of 1 to 200 characters"))
                    continue
                }
                kept.append(ErrorType(id: type.id, name: type.name, description: type.description ?? ""))
            }
            if kept.isEmpty && problems.isEmpty {
                problems.append(.init(file: "quality.yaml", path: "error_types", message: "lists at least one error type (or leave it out for the standard six)"))
            }
            pack.errorTypes = kept
        }
        return pack
    }
}
