import ArgumentParser
import Dispatch
import Foundation
import Pagewise
#if canImport(Glibc)
import Glibc
#endif

struct Chat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with a model in the terminal (its chat template, streamed answers, history kept across turns).",
        discussion: ChatCommand.helpText
    )

    @OptionGroup var options: ModelOptions
    @OptionGroup var kvCache: KVCacheOptions
    @Option(name: .long, help: "Context length (tokens) of the conversation.") var context: Int = 4096
    @Option(name: .long, help: "A built-in template name or a Jinja file, instead of the model's own.") var chatTemplate: String?
    @Option(name: .long, help: "The system prompt.") var system: String?
    @Option(name: .long, help: "Most tokens of one answer.") var maxTokens: Int = 1024
    @Option(name: .long, help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0.8
    @Option(name: .long, help: "Top-k cut (0 = off).") var topK: Int = 40
    @Option(name: .long, help: "Top-p (nucleus) cut (1 = off).") var topP: Float = 0.95
    @Option(name: .long, help: "Min-p cut (0 = off).") var minP: Float = 0.05
    @Option(name: .long, help: "Random seed for sampling.") var seed: UInt64?
    @Flag(name: .long, help: "No stats line after each answer.") var noStats = false

    func params() throws -> SamplingParams {
        var p = SamplingParams()
        p.maxTokens = maxTokens
        p.temperature = temperature
        p.topK = topK
        p.topP = topP
        p.minP = minP
        p.seed = seed
        do { try p.validate() } catch { throw ValidationError("\(error)") }
        return p
    }

    func run() async throws {
        let terminal = ChatTerminal(interactive: isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0)
        let session: ChatSession
        let modelName: String
        do {
            guard context >= 16 else { throw ValidationError("--context must be at least 16") }
            let params = try params()
            let path = try options.resolvedPath()
            var config = EngineConfig(modelPath: path, threads: options.threads)
            config.kvCacheDType = kvCache.kvCacheDType
            config.maxModelLen = context
            config.maxNumSeqs = 1
            // The conversation at full length twice over: room for the next turn while the
            // previous one's pages stay cached for reuse.
            config.numBlocks = 2 * ((context + config.blockSize - 1) / config.blockSize + 2)
            let engine = try AsyncEngine(config: config)
            let template = try ChatPromptTemplate.forModel(at: path, tokenizer: engine.tokenizer, override: chatTemplate)
            session = ChatSession(engine: engine, template: template, params: params, systemPrompt: system)
            modelName = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        } catch let e as ValidationError {
            throw e
        } catch {
            Stderr.print("error: \(error)")
            throw ExitCode(1)
        }
        try await ChatLoop(session: session, terminal: terminal, showStats: !noStats).run(modelName: modelName)
    }
}

/// The read–answer loop of `pagewise chat`.
struct ChatLoop {
    let session: ChatSession
    let terminal: ChatTerminal
    let showStats: Bool

    func run(modelName: String) async throws {
        let interrupt = InterruptHandler(terminal: terminal)
        interrupt.install()
        if terminal.interactive {
            terminal.write("pagewise chat with \(modelName). Type /help for commands, /exit or Ctrl-D to leave.\n")
        }
        var input = ChatInputAccumulator()
        while true {
            terminal.prompt(continuing: input.isContinuing)
            guard let line = readLine(strippingNewline: true) else {
                if terminal.interactive { terminal.write("\n") }
                return
            }
            guard let text = input.feed(line) else { continue }
            switch ChatCommand(text) {
            case let .message(m):
                if m.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { continue }
                await answer(m, interrupt: interrupt)
            case let .system(s):
                await session.setSystemPrompt(s)
                terminal.info(s.isEmpty ? "system prompt cleared" : "system prompt set")
            case .reset:
                await session.reset()
                terminal.info("conversation cleared")
            case let .save(file):
                guard !file.isEmpty else { terminal.info("usage: /save FILE"); continue }
                do {
                    try await session.exportJSON().write(to: URL(fileURLWithPath: file))
                    terminal.info("saved \(await session.messages.count) messages to \(file)")
                } catch {
                    terminal.info("cannot write \(file): \(error.localizedDescription)")
                }
            case let .params(assignments):
                do {
                    let p = try await session.params.applying(assignments: assignments)
                    try await session.setParams(p)
                    terminal.info(p.assignmentsSummary)
                } catch {
                    terminal.info("\(error)")
                }
            case .exit:
                return
            case .help:
                terminal.info(ChatCommand.helpText)
            case let .unknown(word):
                terminal.info("unknown command \(word); /help lists them")
            }
        }
    }

    private func answer(_ message: String, interrupt: InterruptHandler) async {
        let session = session, terminal = terminal
        let task = Task { try await session.respond(to: message) { terminal.write($0) } }
        interrupt.current = task
        defer { interrupt.current = nil }
        do {
            let stats = try await task.value
            terminal.write(stats.interrupted ? "\n^C\n" : "\n")
            if showStats { terminal.stats(stats.summary) }
        } catch {
            terminal.write("\n")
            terminal.info("error: \(error)")
        }
    }
}

/// Writes to the terminal or the pipe: prompts and dim stats only on a terminal.
struct ChatTerminal: Sendable {
    let interactive: Bool

    func write(_ s: String) { FileHandle.standardOutput.write(Data(s.utf8)) }

    func prompt(continuing: Bool) {
        if interactive { write(continuing ? "... " : ">>> ") }
    }

    /// A note from the program (not the model): on stdout at a terminal, on stderr in a pipe.
    func info(_ s: String) {
        if interactive { write(s + "\n") } else { Stderr.print(s) }
    }

    func stats(_ s: String) {
        if interactive { write("\u{1B}[2m\(s)\u{1B}[0m\n") } else { Stderr.print(s) }
    }
}

/// Ctrl-C stops the answer being written (its task is cancelled, which aborts the request);
/// at the prompt it only says how to leave.
final class InterruptHandler: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<ChatTurnStats, any Error>?
    private var source: (any DispatchSourceSignal)?
    private let terminal: ChatTerminal

    init(terminal: ChatTerminal) { self.terminal = terminal }

    var current: Task<ChatTurnStats, any Error>? {
        get { lock.withLock { task } }
        set { lock.withLock { task = newValue } }
    }

    func install() {
        // A parent may have passed on a mask that blocks SIGINT (dispatch threads block every signal).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        signal(SIGINT, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "pagewise.chat.sigint"))
        s.setEventHandler { [weak self] in
            guard let self else { return }
            if let t = self.current {
                t.cancel()
            } else if self.terminal.interactive {
                self.terminal.write("\nUse /exit or Ctrl-D to leave.\n>>> ")
            }
        }
        s.resume()
        source = s
    }
}
