import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
public import WardenCore
import WardenRules
public import WardenStore

/// Watches the pack directory and reloads when its content changes (polling its digest).
public struct PackWatcher: Service {
    private let manager: PackManager
    private let interval: Duration

    /// A watcher polling every `interval`.
    public init(manager: PackManager, interval: Duration = .seconds(2)) {
        self.manager = manager
        self.interval = interval
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var seen = manager.pack.version
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                    let version = PolicyPack.currentVersion(of: manager.pack.directory)
                    guard version != seen else { continue }
                    seen = version
                    _ = try await manager.reload(actor: "file-watch")
                } catch is CancellationError {
                    return
                } catch {
                    continue
                }
            }
        }
    }
}
