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

    public init(errorTypes: [ErrorType] = ErrorType.standard, targetAccuracy: Double? = nil) {
        self.errorTypes = errorTypes
        self.targetAccuracy = targetAccuracy
    }

    struct File: Decodable {
        struct Error: Decodable {
            var id: String
            var name: String
            var description: String?
        }
        var errorTypes: [Error]?
        var targetAccuracy: Double?
        enum CodingKeys: String, CodingKey { case errorTypes = "error_types", targetAccuracy = "target_accuracy" }
    }

    static func load(directory: String, problems: inout [PolicyPackError.Problem]) -> QualityPack {
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
