import ArgumentParser
import Foundation
import GGUF
import Pagewise
import Tokenization

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the token ids of a text.")

    @OptionGroup var options: ModelOptions
    @Flag(name: .long, help: "Print {\"tokens\":[…]}.") var json = false
    @Flag(name: .long, help: "Treat special-token text as plain text.") var noParseSpecial = false
    @Flag(name: .long, help: "Do not add BOS/EOS even if the model asks for them.") var noSpecial = false
    @Argument(help: "The text.") var text: String

    func run() throws {
        try reportingErrors {
            let file = try GGUFFile(path: options.resolvedPath())
            let tokenizer = try Tokenizer(gguf: file)
            let ids = tokenizer.encode(text, addSpecial: !noSpecial, parseSpecial: !noParseSpecial)
            if json {
                struct Output: Encodable { let tokens: [Int32] }
                print(jsonLine(Output(tokens: ids)))
            } else {
                for id in ids {
                    let piece = String(decoding: tokenizer.tokenPiece(id), as: UTF8.self)
                    print("\(id)\t\(piece.debugDescription)")
                }
            }
        }
    }
}
