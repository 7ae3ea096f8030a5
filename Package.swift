// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "warden",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "warden", targets: ["warden"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(
            name: "WardenCore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardenReview",
            dependencies: ["WardenCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardenIncidents",
            dependencies: ["WardenCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardenInvestigations",
            dependencies: ["WardenCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardenQuality",
            dependencies: ["WardenCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardenRules",
            dependencies: ["WardenCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardenClassifiers",
            dependencies: [
                "WardenCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardenSimulation",
            dependencies: ["WardenCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardenStore",
            dependencies: [
                "WardenCore",
                "WardenReview",
                "WardenIncidents",
                "WardenInvestigations",
                "WardenQuality",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardenEngine",
            dependencies: [
                "WardenCore",
                "WardenReview",
                "WardenIncidents",
                "WardenInvestigations",
                "WardenQuality",
                "WardenClassifiers",
                "WardenRules",
                "WardenStore",
                "WardenSimulation",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardenHTTP",
            dependencies: [
                "WardenCore",
                "WardenReview",
                "WardenIncidents",
                "WardenInvestigations",
                "WardenRules",
                "WardenClassifiers",
                "WardenStore",
                "WardenEngine",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [
                .embedInCode("openapi.json"),
                .embedInCode("Console/assets/console.css"),
                .embedInCode("Console/assets/console.js"),
                .embedInCode("Console/templates/layout.mustache"),
                .embedInCode("Console/templates/login.mustache"),
                .embedInCode("Console/templates/signin-link.mustache"),
                .embedInCode("Console/templates/account.mustache"),
                .embedInCode("Console/templates/error.mustache"),
                .embedInCode("Console/templates/home.mustache"),
                .embedInCode("Console/templates/queues.mustache"),
                .embedInCode("Console/templates/queue.mustache"),
                .embedInCode("Console/templates/case.mustache"),
                .embedInCode("Console/templates/audit.mustache"),
                .embedInCode("Console/templates/entity.mustache"),
                .embedInCode("Console/templates/search.mustache"),
                .embedInCode("Console/templates/lead.mustache"),
                .embedInCode("Console/templates/bulk.mustache"),
                .embedInCode("Console/templates/dashboards.mustache"),
                .embedInCode("Console/templates/rules.mustache"),
                .embedInCode("Console/templates/rule.mustache"),
                .embedInCode("Console/templates/incidents.mustache"),
                .embedInCode("Console/templates/incident.mustache"),
                .embedInCode("Console/templates/oncall.mustache"),
                .embedInCode("Console/templates/query.mustache"),
                .embedInCode("Console/templates/clusters.mustache"),
                .embedInCode("Console/templates/banks.mustache"),
                .embedInCode("Console/templates/bulk-jobs.mustache"),
                .embedInCode("Console/templates/quality.mustache"),
                .embedInCode("Console/templates/qa.mustache"),
                .embedInCode("Console/templates/qa-audit.mustache"),
                .embedInCode("Console/templates/qa-item.mustache"),
                .embedInCode("Console/templates/qa-accuracy.mustache"),
                .embedInCode("Console/templates/calibration.mustache"),
                .embedInCode("Console/templates/calibration-session.mustache"),
                .embedInCode("Console/templates/articles.mustache"),
                .embedInCode("Console/templates/article.mustache"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "warden",
            dependencies: [
                "WardenCore",
                "WardenReview",
                "WardenIncidents",
                "WardenInvestigations",
                "WardenQuality",
                "WardenClassifiers",
                "WardenRules",
                "WardenSimulation",
                "WardenStore",
                "WardenEngine",
                "WardenHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardenCoreTests",
            dependencies: ["WardenCore", "WardenSimulation"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardenClassifiersTests",
            dependencies: [
                "WardenCore", "WardenClassifiers",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardenReviewTests",
            dependencies: ["WardenCore", "WardenReview"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardenIncidentsTests",
            dependencies: ["WardenCore", "WardenIncidents"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardenInvestigationsTests",
            dependencies: ["WardenCore", "WardenInvestigations"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardenQualityTests",
            dependencies: ["WardenCore", "WardenQuality"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardenRulesTests",
            dependencies: ["WardenCore", "WardenRules"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardenStoreTests",
            dependencies: [
                "WardenCore", "WardenReview", "WardenInvestigations", "WardenIncidents", "WardenStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardenEngineTests",
            dependencies: ["WardenCore", "WardenClassifiers", "WardenReview", "WardenIncidents", "WardenInvestigations", "WardenStore", "WardenEngine", "WardenSimulation"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardenHTTPTests",
            dependencies: [
                "WardenCore", "WardenReview", "WardenIncidents", "WardenInvestigations", "WardenStore", "WardenEngine", "WardenHTTP", "WardenRules",
                "WardenClassifiers", "WardenSimulation",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
