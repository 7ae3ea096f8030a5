import ArgumentParser
import Foundation
import WardenCore
import WardenEngine
import WardenRules

struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check and test a policy pack's rules.",
        subcommands: [Check.self, Test.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a policy pack: every problem is listed with file:line:column; exit 1 if there is any."
        )
        @Argument(help: "The policy pack directory.") var pack = "policies/example"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            do {
                let loaded = try PolicyPack.load(from: pack)
                if json {
                    printJSON(["pack": loaded.name, "version": loaded.version, "ok": true,
                               "rules": loaded.rules.rules.map { ["name": $0.name, "mode": $0.mode.rawValue, "version": $0.version, "category": $0.category] }])
                } else {
                    let modes = Dictionary(grouping: loaded.rules.rules, by: \.mode).mapValues(\.count)
                    print("\(pack): ok — \(loaded.rules.rules.count) rules (\(modes[.active] ?? 0) active, \(modes[.shadow] ?? 0) shadow, \(modes[.off] ?? 0) off), \(loaded.ruleTests.count) tests, version \(loaded.version)")
                }
            } catch {
                if json {
                    printJSON(["pack": pack, "ok": false, "problems": error.problems.map { problem -> [String: Any] in
                        ["file": problem.file, "line": problem.line ?? 0, "column": problem.column ?? 0, "message": problem.message]
                    }])
                } else {
                    FileHandle.standardError.write(Data((error.description + "\n").utf8))
                }
                throw ExitCode(1)
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the pack's rule tests (tests/*.yaml); prints 'N passed, N failed' and exits 1 on a failure."
        )
        @Argument(help: "The policy pack directory.") var pack = "policies/example"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let loaded: PolicyPack
            do {
                loaded = try PolicyPack.load(from: pack)
            } catch {
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                throw ExitCode(1)
            }
            let results = loaded.runRuleTests()
            let failed = results.filter { !$0.passed }
            if json {
                printJSON(["passed": results.count - failed.count, "failed": failed.count,
                           "failures": failed.map { ["test": $0.test.name, "file": $0.test.file, "problems": $0.failures] }])
            } else {
                for result in results {
                    print("\(result.passed ? "pass" : "FAIL")  \(result.test.file): \(result.test.name)")
                    for failure in result.failures { print("        \(failure)") }
                }
                print("\(results.count - failed.count) passed, \(failed.count) failed")
            }
            if !failed.isEmpty { throw ExitCode(1) }
        }
    }
}
