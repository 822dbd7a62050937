extension Tokenizer {
    /// Turns `text` into token ids.
    ///
    /// - Parameters:
    ///   - addSpecial: add BOS / EOS as the vocabulary asks (``addBOS``, ``addEOS``).
    ///   - parseSpecial: text of control tokens (`<|im_start|>`, `<start_of_turn>` …) becomes those
    ///     tokens. User-defined tokens are matched either way; with `false`, control-token text is
    ///     tokenized as ordinary text.
    /// - Returns: the same ids llama.cpp's `llama_tokenize` returns.
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = true) -> [Int32] {
        var bytes = Array(text.utf8)
        var output: [Int32] = []
        output.reserveCapacity(bytes.count / 3 + 4)
        let fragments: [SpecialTokenMatcher.Fragment] = bytes.withUnsafeBufferPointer { p in
            matcher.partition(p) { id in
                parseSpecial || self.attributes[Int(id)].isDisjoint(with: .special)
            }
        }
        switch algorithm {
        case .sentencePiece(let spm):
            var scratch = SentencePieceEncoder.Scratch()
            var isPrevSpecial = true
            if addSpecial && addBOS && bosId >= 0 { output.append(bosId) }
            var buf: [UInt8] = []
            for f in fragments {
                switch f {
                case .text(let r):
                    buf.removeAll(keepingCapacity: true)
                    if addSpacePrefix && isPrevSpecial { buf.append(contentsOf: [0xE2, 0x96, 0x81]) }
                    for k in r {
                        let b = bytes[k]
                        if b == 0x20 { buf.append(contentsOf: [0xE2, 0x96, 0x81]) } else { buf.append(b) }
                    }
                    buf.withUnsafeBufferPointer { spm.encode($0, scratch: &scratch, output: &output) }
                    isPrevSpecial = false
                case .token(let id):
                    output.append(id)
                    isPrevSpecial = true
                }
            }
        case .bytePair(let bpe, let pre):
            var scratch = BytePairEncoder.Scratch()
            if addSpecial && addBOS && bosId >= 0 { output.append(bosId) }
            var cps: [UInt32] = []
            var starts: [Int] = []
            for f in fragments {
                switch f {
                case .text(let r):
                    Tokenizer.decodeScalars(bytes, r, &cps, &starts)
                    let segs = pre.split(cps)
                    bytes.withUnsafeMutableBufferPointer { p in
                        var cp = 0
                        for len in segs {
                            let a = starts[cp], b = starts[cp + len]
                            bpe.encodeWord(UnsafeBufferPointer(rebasing: p[a..<b]), scratch: &scratch, output: &output)
                            cp += len
                        }
                    }
                case .token(let id):
                    output.append(id)
                }
            }
        }
        if addSpecial && addEOS && eosId >= 0 { output.append(eosId) }
        return output
    }

    /// Decodes the UTF-8 in `bytes[r]` to scalars; `starts` gets each scalar's byte offset plus the end.
    private static func decodeScalars(_ bytes: [UInt8], _ r: Range<Int>, _ cps: inout [UInt32], _ starts: inout [Int]) {
        cps.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        var i = r.lowerBound
        let end = r.upperBound
        while i < end {
            let b0 = UInt32(bytes[i])
            starts.append(i)
            if b0 < 0x80 {
                cps.append(b0); i += 1
            } else if b0 < 0xE0, i + 1 < end {
                cps.append((b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)); i += 2
            } else if b0 < 0xF0, i + 2 < end {
                cps.append((b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F)); i += 3
            } else if i + 3 < end {
                cps.append((b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
                           | UInt32(bytes[i + 3] & 0x3F)); i += 4
            } else {
                cps.append(0xFFFD); i += 1
            }
        }
        starts.append(end)
    }
}
