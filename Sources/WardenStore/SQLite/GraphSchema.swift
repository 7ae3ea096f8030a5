import GRDB

/// The entity graph's database (`<name>-graph.sqlite`): entities, which events name them, links
/// between entities that share an event, and how far through the log it is. Written only by the
/// entity index, from keys it has just upserted and sequence numbers it has just read, in the
/// transaction that advances its cursor; so mentions and links carry no foreign keys (checking each
/// row against its parents cost more than writing it), while keys and shapes are still enforced.
enum GraphSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: entity graph") { db in
            try db.execute(sql: """
                CREATE TABLE entity (
                    key INTEGER PRIMARY KEY,
                    type TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 40),
                    id TEXT NOT NULL CHECK (length(id) BETWEEN 1 AND 256),
                    first_seen_at INTEGER NOT NULL,
                    first_seq INTEGER NOT NULL CHECK (first_seq > 0),
                    UNIQUE (type, id)
                );
                CREATE TABLE event_entity (
                    entity INTEGER NOT NULL,
                    seq INTEGER NOT NULL CHECK (seq > 0),
                    PRIMARY KEY (entity, seq)
                ) WITHOUT ROWID;
                CREATE TABLE entity_link (
                    a INTEGER NOT NULL,
                    b INTEGER NOT NULL,
                    first_seq INTEGER NOT NULL,
                    PRIMARY KEY (a, b),
                    CHECK (a <> b)
                ) WITHOUT ROWID;
                CREATE TABLE graph_cursor (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    seq INTEGER NOT NULL CHECK (seq >= 0)
                );
                INSERT INTO graph_cursor (id, seq) VALUES (1, 0);
                """)
        }
        migrator.registerMigration("v2: recent mentions") { db in
            // New mentions and links land in small tables that stay in the page cache; a merge moves
            // them into `event_entity` and `entity_link` in key order once they hold a million
            // mentions, so each entity's pages are written once per merge instead of once per batch
            // that names it. A link already merged may be added again (the entity cache is bounded):
            // the merge keeps the older, and reads take the smaller `first_seq`.
            try db.execute(sql: """
                CREATE TABLE event_entity_recent (
                    entity INTEGER NOT NULL,
                    seq INTEGER NOT NULL CHECK (seq > 0),
                    PRIMARY KEY (entity, seq)
                ) WITHOUT ROWID;
                CREATE TABLE entity_link_recent (
                    a INTEGER NOT NULL,
                    b INTEGER NOT NULL,
                    first_seq INTEGER NOT NULL,
                    PRIMARY KEY (a, b),
                    CHECK (a <> b)
                ) WITHOUT ROWID;
                ALTER TABLE graph_cursor ADD COLUMN recent_rows INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v3: recent mentions in runs") { db in
            // Keyed by entity, the recent tables took each batch's rows all over their B-trees, so a
            // batch rewrote most of their pages (a 10,000-event batch added 32-68 MB to the WAL). Keyed
            // by run first (a run is one batch, named by its first event), a batch's rows go after
            // every earlier run's and dirty only the pages they fill; an entity's recent rows are one
            // seek per run (`recentMentions`, `recentLinks`), and the indexer merges before the runs
            // grow many. What the old tables hold is merged first.
            try db.execute(sql: """
                INSERT INTO event_entity (entity, seq) SELECT entity, seq FROM event_entity_recent ORDER BY entity, seq;
                INSERT INTO entity_link (a, b, first_seq) SELECT a, b, first_seq FROM entity_link_recent WHERE true ORDER BY a, b
                    ON CONFLICT (a, b) DO UPDATE SET first_seq = min(first_seq, excluded.first_seq);
                DROP TABLE event_entity_recent;
                DROP TABLE entity_link_recent;
                UPDATE graph_cursor SET recent_rows = 0;
                CREATE TABLE graph_run (
                    run INTEGER PRIMARY KEY CHECK (run > 0)
                );
                CREATE TABLE event_entity_recent (
                    run INTEGER NOT NULL,
                    entity INTEGER NOT NULL,
                    seq INTEGER NOT NULL CHECK (seq > 0),
                    PRIMARY KEY (run, entity, seq)
                ) WITHOUT ROWID;
                CREATE TABLE entity_link_recent (
                    run INTEGER NOT NULL,
                    a INTEGER NOT NULL,
                    b INTEGER NOT NULL,
                    first_seq INTEGER NOT NULL,
                    PRIMARY KEY (run, a, b),
                    CHECK (a <> b)
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }

    /// An entity's recent mentions (`seq`), one seek per run: `entity` is SQL for its key, such as `?1`.
    static func recentMentions(of entity: String) -> String {
        "SELECT seq FROM event_entity_recent WHERE run IN (SELECT run FROM graph_run) AND entity = \(entity)"
    }

    /// An entity's recent links (`b`, `first_seq`), one seek per run; a link may be in more than one
    /// run (the entity cache is bounded), so readers take the smallest `first_seq`.
    static func recentLinks(from entity: String) -> String {
        "SELECT b, first_seq FROM entity_link_recent WHERE run IN (SELECT run FROM graph_run) AND a = \(entity)"
    }

    /// The last event the graph reflects.
    static func cursor(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT seq FROM graph_cursor WHERE id = 1") ?? 0
    }
}
