import Pagewise
import Testing

struct SHA256Tests {
    // FIPS 180-4 example vectors.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownVectors(input: String, digest: String) {
        var h = SHA256()
        h.update(Array(input.utf8))
        #expect(h.finalizeHex() == digest)
    }

    @Test func streamingInPiecesEqualsOneShot() {
        let data = (0 ..< 1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var one = SHA256()
        one.update(data)
        var parts = SHA256()
        var i = 0
        for size in [1, 63, 64, 65, 7, 300, 500] where i < data.count {
            parts.update(Array(data[i ..< min(data.count, i + size)]))
            i += size
        }
        #expect(one.finalizeHex() == parts.finalizeHex())
        // A million 'a's (FIPS 180-4).
        var m = SHA256()
        let a = [UInt8](repeating: 0x61, count: 1_000_000)
        m.update(a)
        #expect(m.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
