public import WardenCore

/// The incident rules as pure planning: given the loaded incident (and its tasks) and a request,
/// the ``IncidentPlan`` to apply or an ``IncidentError`` saying why not. The store loads, calls
/// the planner and applies the plan in one transaction.
public struct IncidentPlanner: Sendable {
    public var settings: IncidentSettings
    public var now: Int64

    public init(settings: IncidentSettings, now: Int64) {
        self.settings = settings
        self.now = now
    }

    // MARK: Opening

    /// Opens incident `id` from `draft`. An incident whose severity pages on open starts the page.
    public func open(_ draft: IncidentDraft, id: Int64, actor: ActorRef) throws(IncidentError) -> (IncidentPlan, IncidentRecord) {
        let title = draft.title.trimmedOfBlanks
        guard !title.isEmpty else { throw IncidentError(.invalid, "an incident needs a title") }
        guard !title.unicodeScalars.contains("\u{0}") else { throw IncidentError(.invalid, "a title cannot contain NUL characters") }
        guard title.unicodeScalars.count <= 200 else { throw IncidentError(.invalid, "the title is \(title.unicodeScalars.count) characters; keep it to 200") }
        let severity = try requireSeverity(draft.severity)
        for group in draft.stakeholders { try requireStakeholder(group) }
        var record = IncidentRecord(id: id, title: title, summary: draft.summary, severity: severity.id, source: draft.source, sourceRef: draft.sourceRef,
                                    createdAt: now, createdBy: actor, detectedAt: min(draft.detectedAt ?? now, now))
        record.stakeholders = Self.unique(draft.stakeholders)
        if let commander = draft.commander {
            record.roles[.commander] = commander
            record.participants = [commander]
        }
        record.updateDueAt = now + severity.updateEvery
        var plan = IncidentPlan()
        plan.timeline.append(entry(id, actor, .opened, jsonObject {
            $0.field("title", title)
            $0.field("severity", severity.id)
            $0.field("source", draft.source.rawValue)
            if let ref = draft.sourceRef { $0.field("source_ref", ref) }
            if let commander = draft.commander { $0.field("commander", commander) }
        }))
        plan.audit.append(AuditDraft(at: now, actor: actor, action: "incident.open", target: record.target, detail: jsonObject {
            $0.field("title", title)
            $0.field("severity", severity.id)
            $0.field("source", draft.source.rawValue)
        }))
        for link in Self.unique(draft.links) {
            try link.validate()
            plan.links.append(IncidentLinkRecord(incidentID: id, link: link, at: now, by: actor))
            plan.timeline.append(entry(id, actor, .link, jsonObject { $0.field("link", link.description) }))
        }
        if let policy = settings.pageOnOpen[severity.id] {
            plan.pages.append(PageStart(subject: record.target, policy: policy, summary: "\(severity.id) incident \(id): \(title)",
                                        severity: severity.pagerSeverity, at: now))
        }
        plan.inserted = record
        return (plan, record)
    }

    // MARK: Changing

    /// Applies `change` to `record` (with its `tasks`); `nextTaskID` is the id a new task gets.
    public func change(_ record: IncidentRecord, tasks: [IncidentTask] = [], links: [IncidentLink] = [], _ change: IncidentChange,
                       actor: ActorRef, nextTaskID: Int64 = 1) throws(IncidentError) -> (IncidentPlan, IncidentRecord) {
        var plan = IncidentPlan()
        var record = record
        let id = record.id
        if record.status == .closed {
            throw IncidentError(.conflict, "incident \(id) is closed; nothing more can change on it")
        }
        func log(_ kind: IncidentTimelineEntry.Kind, _ action: String, _ detail: String) {
            plan.timeline.append(entry(id, actor, kind, detail))
            plan.audit.append(AuditDraft(at: now, actor: actor, action: "incident.\(action)", target: record.target, detail: detail))
        }
        switch change {
        case .status(let status, let note):
            let from = record.status
            do { record.status = try IncidentLifecycle.next(from, status) } catch { throw IncidentError(.conflict, error.description) }
            if status.rank >= IncidentStatus.identified.rank, record.identifiedAt == nil, status.isActive { record.identifiedAt = now }
            if status.rank >= IncidentStatus.monitoring.rank, record.mitigatedAt == nil, status != .investigating { record.mitigatedAt = now }
            if status == .resolved { record.resolvedAt = now }
            if status == .closed { record.closedAt = now }
            if from == .resolved, status == .investigating {
                record.resolvedAt = nil
            }
            record.updateDueAt = status.isActive ? now + (severity(of: record)?.updateEvery ?? 3_600_000) : nil
            if !status.isActive { plan.acknowledgedPages.append(record.target) }
            log(.status, "status", jsonObject {
                $0.field("from", from.rawValue)
                $0.field("to", status.rawValue)
                if let note { $0.field("note", note) }
            })
        case .severity(let id, let reason):
            let severity = try requireSeverity(id)
            guard severity.id != record.severity else { throw IncidentError(.conflict, "the incident is already \(severity.id)") }
            let from = record.severity
            record.severity = severity.id
            if record.status.isActive {
                record.updateDueAt = min(record.updateDueAt ?? .max, (record.lastUpdateAt ?? record.createdAt) + severity.updateEvery)
                if settings.isMoreSerious(severity.id, than: from), let policy = settings.pageOnOpen[severity.id], record.acknowledgedAt == nil {
                    plan.pages.append(PageStart(subject: record.target, policy: policy, summary: "\(severity.id) incident \(record.id): \(record.title)",
                                                severity: severity.pagerSeverity, at: now))
                }
            }
            log(.severity, "severity", jsonObject {
                $0.field("from", from)
                $0.field("to", severity.id)
                if let reason { $0.field("reason", reason) }
            })
        case .role(let role, let person):
            let person = person.flatMap { $0.isEmpty ? nil : $0 }
            guard record.roles[role] != person else {
                throw IncidentError(.conflict, person.map { "\($0) is already the \(role.rawValue)" } ?? "nobody is the \(role.rawValue)")
            }
            let from = record.roles[role]
            record.roles[role] = person
            if let person, !record.participants.contains(person) { record.participants.append(person) }
            log(.role, "role", jsonObject {
                $0.field("role", role.rawValue)
                if let from { $0.field("from", from) }
                if let person { $0.field("to", person) }
            })
        case .addParticipant(let person):
            guard !person.isEmpty else { throw IncidentError(.invalid, "name the participant") }
            guard !record.participants.contains(person) else { throw IncidentError(.conflict, "\(person) already takes part") }
            record.participants.append(person)
            log(.participant, "participant", jsonObject { $0.field("added", person) })
        case .removeParticipant(let person):
            guard let index = record.participants.firstIndex(of: person) else { throw IncidentError(.conflict, "\(person) does not take part") }
            if let role = IncidentRole.allCases.first(where: { record.roles[$0] == person }) {
                throw IncidentError(.conflict, "\(person) is the \(role.rawValue); give the role to someone else first")
            }
            record.participants.remove(at: index)
            log(.participant, "participant", jsonObject { $0.field("removed", person) })
        case .addStakeholder(let group):
            try requireStakeholder(group)
            guard !record.stakeholders.contains(group) else { throw IncidentError(.conflict, "\(group) is already at the table") }
            record.stakeholders.append(group)
            log(.stakeholder, "stakeholder", jsonObject { $0.field("added", group) })
        case .removeStakeholder(let group):
            guard let index = record.stakeholders.firstIndex(of: group) else { throw IncidentError(.conflict, "\(group) is not at the table") }
            record.stakeholders.remove(at: index)
            log(.stakeholder, "stakeholder", jsonObject { $0.field("removed", group) })
        case .edit(let title, let summary):
            guard title != nil || summary != nil else { throw IncidentError(.invalid, "give a title or a summary to change") }
            if let title {
                let trimmed = title.trimmedOfBlanks
                guard !trimmed.isEmpty, trimmed.unicodeScalars.count <= 200 else { throw IncidentError(.invalid, "a title has 1 to 200 characters") }
                guard !trimmed.unicodeScalars.contains("\u{0}") else { throw IncidentError(.invalid, "a title cannot contain NUL characters") }
                record.title = trimmed
            }
            if let summary { record.summary = summary }
            log(.edited, "edit", jsonObject {
                if let title { $0.field("title", title) }
                if summary != nil { $0.field("summary", "changed") }
            })
        case .link(let link):
            try link.validate()
            guard !links.contains(link) else { throw IncidentError(.conflict, "\(link.description) is already linked") }
            plan.links.append(IncidentLinkRecord(incidentID: id, link: link, at: now, by: actor))
            log(.link, "link", jsonObject { $0.field("link", link.description) })
        case .unlink(let link):
            guard links.contains(link) else { throw IncidentError(.conflict, "\(link.description) is not linked to incident \(id)") }
            plan.unlinks.append(link)
            log(.unlink, "unlink", jsonObject { $0.field("link", link.description) })
        case .note(let text):
            let text = try nonEmpty(text, "a note")
            plan.timeline.append(entry(id, actor, .note, jsonObject { $0.field("text", text) }))
        case .update(let text):
            let text = try nonEmpty(text, "an update")
            record.lastUpdateAt = now
            if record.status.isActive { record.updateDueAt = now + (severity(of: record)?.updateEvery ?? 3_600_000) }
            log(.update, "update", jsonObject { $0.field("text", text) })
            let sequence = plan.timeline.count
            let notice = Notice(topic: "incident.update", subject: record.target, summary: "\(record.severity) incident \(id) (\(record.status.rawValue)): \(record.title)",
                                text: text, severity: severity(of: record)?.pagerSeverity ?? "info", key: "\(now)-\(sequence)",
                                details: [("status", record.status.rawValue), ("severity", record.severity)])
            plan.outbox += settings.updateChannels.map { notice.delivery(to: $0, at: now) }
        case .acknowledge:
            guard record.acknowledgedAt == nil else {
                throw IncidentError(.conflict, "incident \(id) was acknowledged by \(record.acknowledgedBy?.description ?? "someone") already")
            }
            record.acknowledgedAt = now
            record.acknowledgedBy = actor
            if record.roles[.commander] == nil, actor.kind == .user {
                record.roles[.commander] = actor.name
                if !record.participants.contains(actor.name) { record.participants.append(actor.name) }
            }
            plan.acknowledgedPages.append(record.target)
            log(.acknowledged, "acknowledge", "{}")
        case .addTask(let title, let owner, let dueAt, let followUp):
            let title = try nonEmpty(title, "a task's title")
            let task = IncidentTask(id: nextTaskID, incidentID: id, title: title, owner: owner, dueAt: dueAt, followUp: followUp,
                                    createdAt: now, createdBy: actor)
            plan.tasks.append(task)
            log(.task, "task", jsonObject {
                $0.field("task", nextTaskID)
                $0.field("title", title)
                if let owner { $0.field("owner", owner) }
                if let dueAt { $0.field("due_at", Timestamp.formatRFC3339(dueAt)) }
                if followUp { $0.key("follow_up"); $0.bool(true) }
            })
        case .completeTask(let taskID):
            guard var task = tasks.first(where: { $0.id == taskID }) else { throw IncidentError(.notFound, "incident \(id) has no task \(taskID)") }
            guard task.doneAt == nil else { throw IncidentError(.conflict, "task \(taskID) is already done") }
            task.doneAt = now
            task.doneBy = actor
            plan.updatedTasks.append(task)
            log(.task, "task.done", jsonObject {
                $0.field("task", taskID)
                $0.field("done", task.title)
            })
        case .taskChange(let taskID, let changeRef):
            guard var task = tasks.first(where: { $0.id == taskID }) else { throw IncidentError(.notFound, "incident \(id) has no task \(taskID)") }
            let changeRef = try nonEmpty(changeRef, "the change")
            task.change = changeRef
            plan.updatedTasks.append(task)
            log(.task, "task.change", jsonObject {
                $0.field("task", taskID)
                $0.field("change", changeRef)
            })
        case .review(let markdown):
            _ = try nonEmpty(markdown, "a review")
            guard !record.status.isActive else {
                throw IncidentError(.conflict, "incident \(id) is still \(record.status.rawValue); resolve it before keeping its review")
            }
            record.review = markdown
            log(.review, "review", jsonObject { $0.field("characters", Int64(markdown.count)) })
        }
        plan.updated = record
        return (plan, record)
    }

    /// An overdue stakeholder update: one reminder per cadence (the next falls due a cadence later),
    /// posted to the update channels and the timeline.
    public func remind(_ record: IncidentRecord) -> (IncidentPlan, IncidentRecord)? {
        guard record.status.isActive, let due = record.updateDueAt, due <= now, let severity = severity(of: record) else { return nil }
        var record = record
        var plan = IncidentPlan()
        record.updateDueAt = now + severity.updateEvery
        let since = record.lastUpdateAt ?? record.createdAt
        let detail = jsonObject {
            $0.field("overdue_since", Timestamp.formatRFC3339(due))
            $0.field("cadence", DurationText.format(severity.updateEvery))
        }
        plan.timeline.append(entry(record.id, .system("incidents"), .reminder, detail))
        let notice = Notice(topic: "incident.reminder", subject: record.target,
                            summary: "\(record.severity) incident \(record.id): a stakeholder update is due (\(severity.id) updates every \(DurationText.format(severity.updateEvery)))",
                            text: "Last update \(Timestamp.formatRFC3339(since)). " + ((record.roles[.communications] ?? record.roles[.commander]).map { "\($0), please post one." } ?? ""),
                            severity: "info", person: record.roles[.communications] ?? record.roles[.commander], key: "\(due)")
        plan.outbox += settings.updateChannels.map { notice.delivery(to: $0, at: now) }
        plan.updated = record
        return (plan, record)
    }

    // MARK: Helpers

    func severity(of record: IncidentRecord) -> IncidentSeverity? { settings.severity(record.severity) }

    func requireSeverity(_ id: String) throws(IncidentError) -> IncidentSeverity {
        guard let severity = settings.severity(id) else {
            throw IncidentError(.invalid, "severity \"\(id)\" is not defined; use one of \(settings.severities.map(\.id).joined(separator: ", "))")
        }
        return severity
    }

    func requireStakeholder(_ group: String) throws(IncidentError) {
        guard settings.stakeholders.contains(where: { $0.id == group }) else {
            throw IncidentError(.invalid, "stakeholder group \"\(group)\" is not defined; use one of \(settings.stakeholders.map(\.id).joined(separator: ", "))")
        }
    }

    func nonEmpty(_ text: String, _ what: String) throws(IncidentError) -> String {
        let trimmed = text.trimmedOfBlanks
        guard !trimmed.isEmpty else { throw IncidentError(.invalid, "\(what) cannot be empty") }
        guard trimmed.unicodeScalars.count <= 100_000 else { throw IncidentError(.invalid, "\(what) has \(trimmed.unicodeScalars.count) characters; keep it to 100,000") }
        return trimmed
    }

    func entry(_ id: Int64, _ actor: ActorRef, _ kind: IncidentTimelineEntry.Kind, _ detail: String) -> IncidentTimelineEntry {
        IncidentTimelineEntry(id: 0, incidentID: id, at: now, actor: actor, kind: kind, detail: detail)
    }

    static func unique<T: Hashable>(_ items: [T]) -> [T] {
        var seen = Set<T>()
        return items.filter { seen.insert($0).inserted }
    }
}

extension IncidentLink {
    /// Refuses a link whose reference cannot name its kind of item.
    func validate() throws(IncidentError) {
        let ok: Bool
        switch kind {
        case .case, .signal, .alert: ok = Int64(ref).map { $0 > 0 } ?? false
        case .entity: ok = EntityRef(parsing: ref) != nil
        case .rule, .queue: ok = !ref.isEmpty && ref.count <= 200
        }
        guard ok else {
            let expected = switch kind {
            case .case, .signal, .alert: "a positive id"
            case .entity: "an entity such as user:123"
            case .rule, .queue: "a name"
            }
            throw IncidentError(.invalid, "link \(kind.rawValue) \"\(ref)\" is not \(expected)")
        }
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks (the API's definition of blank).
    var trimmedOfBlanks: String {
        let blanks: Set<Unicode.Scalar> = [" ", "\t", "\n", "\r"]
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !blanks.contains($0) }), let last = scalars.lastIndex(where: { !blanks.contains($0) }) else { return "" }
        return String(scalars[first...last])
    }
}
