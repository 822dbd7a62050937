import ArgumentParser
import Foundation
import Logging
import Pagewise
import PagewiseServer

/// `pagewise serve`: the OpenAI-compatible HTTP server.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the model over an OpenAI-compatible HTTP API (vLLM's routes).")

    @OptionGroup var options: ModelOptions
    @Option(name: .long, help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(name: .long, help: "Port to listen on (0 picks a free one).") var port: Int = 8000
    @Option(name: .long, help: "The model name clients send (default: the --model value).") var servedModelName: String?
    @Option(name: .long, help: "Require Authorization: Bearer KEY on /v1 routes.") var apiKey: String?
    @Option(name: .long, help: "Chat template: a built-in name or a Jinja file (default: the model's own).") var chatTemplate: String?
    @Option(name: .long, help: "Most requests waiting beyond --max-num-seqs running ones; more get 429 (default: no limit).")
    var maxQueue: Int?
    @Option(name: .long, help: "Largest request body in bytes; larger get 413.") var maxBodyBytes: Int = 4 << 20
    @Option(name: .long, help: "Seconds in-flight requests may take to finish after SIGTERM.") var gracePeriod: Double = 30
    @OptionGroup var engine: EngineOptions

    func validate() throws {
        guard (0 ... 65535).contains(port) else { throw ValidationError("--port must be 0–65535") }
        if let q = maxQueue, q < 0 { throw ValidationError("--max-queue must be ≥ 0") }
        guard maxBodyBytes >= 1 else { throw ValidationError("--max-body-bytes must be ≥ 1") }
        guard gracePeriod >= 0 else { throw ValidationError("--grace-period must be ≥ 0") }
        if let k = apiKey, k.isEmpty { throw ValidationError("--api-key must not be empty") }
    }

    func run() async throws {
        let logger = Logger(label: "pagewise.server")
        let arguments = try reportingErrors { () throws -> ServeArguments in
            let engineConfig = try engine.config(modelPath: options.resolvedPath(), threads: options.threads)
            var server = ServerConfiguration()
            server.host = self.host
            server.port = port
            server.servedModelName = servedModelName ?? options.model
            server.apiKey = apiKey
            server.maxQueue = maxQueue
            server.runningCapacity = engineConfig.maxNumSeqs
            server.maxBodyBytes = maxBodyBytes
            server.gracePeriodSeconds = gracePeriod
            return ServeArguments(engine: engineConfig, server: server, chatTemplate: chatTemplate)
        }
        let name = arguments.server.servedModelName
        let address = arguments.server.host
        do {
            try await runServer(arguments, logger: logger) { port in
                logger.info("serving \(name) on http://\(address):\(port) (OpenAI API under /v1)")
            }
        } catch is CancellationError {
            // The grace period ran out and the remaining requests were cancelled: still a clean stop.
        } catch {
            Stderr.print("error: \(error)")
            throw ExitCode(1)
        }
        logger.info("server stopped")
    }
}
