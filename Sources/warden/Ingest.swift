import ArgumentParser
import AsyncHTTPClient
import Foundation
import WardenCore
import WardenEngine

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load NDJSON events into a running server (--to) or straight into a data directory.",
        discussion: """
            Reads one event per line from FILE, or standard input with -. Prints a summary (or one JSON object \
            with --json) and exits 1 if any line was rejected or conflicted. Re-running the same file is safe: \
            events already stored count as duplicates.
            """
    )

    @Argument(help: "NDJSON file, or - for standard input.") var file: String
    @OptionGroup var data: DataDirOption
    @OptionGroup var pack: PackOption
    @Option(help: "Base URL of a running server, such as http://127.0.0.1:8080.") var to: String?
    @Option(help: "API token for --to (default: $WARDEN_TOKEN).") var token: String?
    @Option(help: "Events per batch.") var batchSize = 1000
    @Flag(help: "Print the summary as JSON.") var json = false
    @Option(help: "How many rejected lines to list.") var showErrors = 10

    func validate() throws {
        guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 100000") }
    }

    func run() async throws {
        let source: FileHandle
        var total: Int?
        if file == "-" {
            source = .standardInput
        } else {
            guard let handle = FileHandle(forReadingAtPath: file) else { throw ValidationError("cannot open \(file)") }
            source = handle
            total = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? nil
        }

        let submit: ([UInt8]) async throws -> IntakeResult
        var opened: OpenedDataDir?
        if let to {
            let http = HTTPClient.shared
            let sender = HTTPSender(client: http, baseURL: to, token: token ?? ProcessInfo.processInfo.environment["WARDEN_TOKEN"])
            submit = { try await sender.send($0) }
        } else {
            let policyPack = try pack.load()
            let dir = try await OpenedDataDir(data)
            opened = dir
            let intake = Intake(store: dir.store, schema: policyPack.eventSchema)
            submit = { try await intake.submit($0, format: .ndjson) }
        }
        defer {
            opened?.lock?.release()
        }

        var progress = ProgressBar(label: "ingest", total: total)
        var totals = (lines: 0, accepted: 0, duplicates: 0, conflicts: 0, rejected: 0)
        var errors: [(Int, LineError)] = []
        var bytesRead = 0
        var batch: [UInt8] = []
        var batchLines: [Int] = []
        var lineNumber = 0
        let started = ContinuousClock.now

        func flush() async throws {
            guard !batchLines.isEmpty else { return }
            let result = try await submit(batch)
            totals.lines += batchLines.count
            totals.accepted += result.accepted
            totals.duplicates += result.duplicates
            totals.conflicts += result.conflicts
            totals.rejected += result.rejected
            for line in result.results where errors.count < showErrors {
                if let error = line.error { errors.append((batchLines[line.line - 1], error)) }
            }
            batch.removeAll(keepingCapacity: true)
            batchLines.removeAll(keepingCapacity: true)
        }

        var pendingLine: [UInt8] = []
        while true {
            let chunk = source.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            bytesRead += chunk.count
            var start = chunk.startIndex
            while let newline = chunk[start...].firstIndex(of: UInt8(ascii: "\n")) {
                pendingLine.append(contentsOf: chunk[start..<newline])
                start = newline + 1
                lineNumber += 1
                if pendingLine.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                    batch += pendingLine
                    batch.append(UInt8(ascii: "\n"))
                    batchLines.append(lineNumber)
                    if batchLines.count >= batchSize { try await flush() }
                }
                pendingLine.removeAll(keepingCapacity: true)
            }
            pendingLine.append(contentsOf: chunk[start...])
            progress.update(total == nil ? totals.lines : bytesRead)
        }
        if pendingLine.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
            lineNumber += 1
            batch += pendingLine
            batchLines.append(lineNumber)
        }
        try await flush()
        progress.update(total == nil ? totals.lines : bytesRead, force: true)
        progress.finish()
        if let opened {
            var indexing = ProgressBar(label: "entity graph", total: nil)
            try await EntityIndexer.catchUp(opened.store) { indexing.update(Int($0.indexedThroughSeq)) }
            indexing.finish()
        }

        let seconds = max(started.duration(to: .now).seconds, 0.001)
        if json {
            printJSON([
                "lines": totals.lines, "accepted": totals.accepted, "duplicates": totals.duplicates,
                "conflicts": totals.conflicts, "rejected": totals.rejected, "seconds": (seconds * 1000).rounded() / 1000,
                "events_per_sec": Int(Double(totals.lines) / seconds),
                "errors": errors.map { ["line": $0.0, "code": $0.1.code, "field": $0.1.field ?? "", "message": $0.1.message] },
            ])
        } else {
            print("\(totals.lines) lines: \(totals.accepted) accepted, \(totals.duplicates) duplicates, \(totals.conflicts) conflicts, \(totals.rejected) rejected in \(String(format: "%.2f", seconds))s (\(Int(Double(totals.lines) / seconds)) lines/s)")
            for (line, error) in errors {
                print("  line \(line): \(error.field.map { "\($0): " } ?? "")\(error.message)")
            }
        }
        if totals.rejected + totals.conflicts > 0 { throw ExitCode(1) }
    }
}
