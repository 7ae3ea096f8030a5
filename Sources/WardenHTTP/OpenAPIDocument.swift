import Foundation
import Synchronization
import WardenCore
import WardenEngine
import WardenQuality

/// The OpenAPI 3.1 description of every route, served at `/openapi.json`: the spec file
/// `openapi.json` next to this one, embedded in the binary when it is built. Some schemas depend on
/// the pack, and the served document gives them the pack in force's values (as `enum`): `EntityType`
/// its registered entity types, `Category` its taxonomy's categories, `Queue` its queues, `Severity`,
/// `StakeholderGroup` and `Schedule` its incident severities, stakeholder groups and on-call schedules, `Answer` none and its categories. Tests hold the
/// document against the routes the router really has (both ways) and each route's scope
/// (`x-warden-scope`); `scripts/test` runs schemathesis against a live server with it.
enum OpenAPIDocument {
    /// The spec file's bytes.
    static var bytes: [UInt8] { PackageResources.openapi_json }

    private static let served = Mutex<(version: String, bytes: [UInt8])?>(nil)

    /// The document for `pack` (made once per pack version).
    static func document(for pack: PolicyPack) -> [UInt8] {
        if let cached = served.withLock({ $0 }), cached.version == pack.version { return cached.bytes }
        let made = fill(["EntityType": pack.eventSchema.entityTypes.names, "Category": pack.taxonomy.categories.map(\.id),
                         "Queue": pack.review.configuration.queueOrder, "Severity": pack.incidents.settings.severities.map(\.id),
                         "StakeholderGroup": pack.incidents.settings.stakeholders.map(\.id), "Schedule": pack.incidents.schedules.keys.sorted(),
                         "Answer": SessionAnswer.scale(pack.taxonomy.categoryIDs)])
        served.withLock { $0 = (pack.version, made) }
        return made
    }

    /// The spec file with the pack-dependent enumerations filled in.
    static func fill(_ enumerations: [String: [String]]) -> [UInt8] {
        guard var document = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              var components = document["components"] as? [String: Any], var schemas = components["schemas"] as? [String: Any] else {
            return bytes
        }
        for (name, values) in enumerations where !values.isEmpty {
            guard var schema = schemas[name] as? [String: Any] else { continue }
            schema["enum"] = values
            schemas[name] = schema
        }
        components["schemas"] = schemas
        document["components"] = components
        return (try? Array(JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes]))) ?? bytes
    }
}
