import Mustache

/// The console's templates and assets, embedded in the binary (package resources), parsed once.
enum ConsoleTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        let templates: [(String, [UInt8])] = [
            ("layout", PackageResources.layout_mustache), ("login", PackageResources.login_mustache),
            ("signin-link", PackageResources.signin_link_mustache), ("account", PackageResources.account_mustache),
            ("error", PackageResources.error_mustache), ("home", PackageResources.home_mustache),
            ("queues", PackageResources.queues_mustache), ("queue", PackageResources.queue_mustache),
            ("case", PackageResources.case_mustache), ("audit", PackageResources.audit_mustache),
            ("entity", PackageResources.entity_mustache), ("search", PackageResources.search_mustache),
            ("lead", PackageResources.lead_mustache), ("bulk", PackageResources.bulk_mustache),
            ("dashboards", PackageResources.dashboards_mustache), ("rules", PackageResources.rules_mustache),
            ("rule", PackageResources.rule_mustache), ("incidents", PackageResources.incidents_mustache),
            ("incident", PackageResources.incident_mustache), ("oncall", PackageResources.oncall_mustache), ("query", PackageResources.query_mustache), ("clusters", PackageResources.clusters_mustache), ("banks", PackageResources.banks_mustache), ("bulk-jobs", PackageResources.bulk_jobs_mustache), ("quality", PackageResources.quality_mustache),
            ("qa", PackageResources.qa_mustache), ("qa-audit", PackageResources.qa_audit_mustache), ("qa-item", PackageResources.qa_item_mustache),
            ("qa-accuracy", PackageResources.qa_accuracy_mustache),
            ("calibration", PackageResources.calibration_mustache), ("calibration-session", PackageResources.calibration_session_mustache),
            ("articles", PackageResources.articles_mustache), ("article", PackageResources.article_mustache),
        ]
        for (name, bytes) in templates {
            do {
                try library.register(String(decoding: bytes, as: UTF8.self), named: name)
            } catch {
                fatalError("console template \(name) does not parse: \(error)")
            }
        }
        return library
    }()

    static let css = PackageResources.console_css
    static let script = PackageResources.console_js

    /// Renders `template` with `view`.
    static func render(_ template: String, _ view: Any) -> String {
        guard let html = library.render(view, withTemplate: template) else { fatalError("no console template \(template)") }
        return html
    }
}
