using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace MiniVmm.Boot.Compression;

// The LZMA chunk decoder proper: a range decoder over the chunk's packed bytes driving the literal,
// match and rep models. Range-coder state lives in locals (range, code, inPos) so the JIT keeps
// them in registers; every input read and every match copy is bounds-checked.
internal sealed partial class Lzma2Decoder
{
    private const uint TopValue = 1u << 24;

    private void DecodeChunk(ReadOnlySpan<byte> input, Span<byte> output, int dictionaryStart, int pos, int end)
    {
        if (input.Length < 5 || input[0] != 0)
            throw Corrupt("LZMA chunk has a bad range-coder header");
        uint code = BinaryPrimitives.ReadUInt32BigEndian(input[1..]);
        uint range = 0xFFFF_FFFF;
        int inPos = 5;
        var probs = _probabilities.AsSpan();
        int pbMask = (1 << _pb) - 1, lpMask = (1 << _lp) - 1, lc = _lc;
        int state = _state;
        uint rep0 = _rep0, rep1 = _rep1, rep2 = _rep2, rep3 = _rep3;

        while (pos < end)
        {
            int posState = (pos - dictionaryStart) & pbMask;
            if (Bit(ref probs[IsMatch + (state << 4) + posState], ref range, ref code, input, ref inPos) == 0)
            {
                int previous = pos > dictionaryStart ? output[pos - 1] : 0;
                int literal = Literal + (LiteralCoderSize * ((((pos - dictionaryStart) & lpMask) << lc) + (previous >> (8 - lc))));
                uint symbol = 1;
                if (state >= 7)
                {
                    // After a match, the byte at rep0 predicts this literal bit by bit until they differ.
                    uint matchByte = output[pos - (int)rep0 - 1];
                    do
                    {
                        uint matchBit = (matchByte >> 7) & 1;
                        matchByte <<= 1;
                        uint bit = Bit(ref probs[literal + (int)((1 + matchBit) << 8) + (int)symbol], ref range, ref code, input, ref inPos);
                        symbol = (symbol << 1) | bit;
                        if (matchBit != bit)
                            break;
                    }
                    while (symbol < 0x100);
                }
                while (symbol < 0x100)
                    symbol = (symbol << 1) | Bit(ref probs[literal + (int)symbol], ref range, ref code, input, ref inPos);
                output[pos++] = (byte)symbol;
                state = NextState(state, 0);
                continue;
            }

            int length;
            if (Bit(ref probs[IsRep + state], ref range, ref code, input, ref inPos) != 0)
            {
                if (pos == dictionaryStart)
                    throw Corrupt("LZMA rep match before any data");
                if (Bit(ref probs[IsRepG0 + state], ref range, ref code, input, ref inPos) == 0)
                {
                    if (Bit(ref probs[IsRep0Long + (state << 4) + posState], ref range, ref code, input, ref inPos) == 0)
                    {
                        state = NextState(state, 3);
                        output[pos] = output[pos - (int)rep0 - 1];
                        pos++;
                        continue;
                    }
                }
                else
                {
                    uint distance;
                    if (Bit(ref probs[IsRepG1 + state], ref range, ref code, input, ref inPos) == 0)
                    {
                        distance = rep1;
                    }
                    else
                    {
                        if (Bit(ref probs[IsRepG2 + state], ref range, ref code, input, ref inPos) == 0)
                        {
                            distance = rep2;
                        }
                        else
                        {
                            distance = rep3;
                            rep3 = rep2;
                        }
                        rep2 = rep1;
                    }
                    rep1 = rep0;
                    rep0 = distance;
                }
                length = DecodeLength(probs, RepLengthCoder, posState, ref range, ref code, input, ref inPos);
                state = NextState(state, 2);
            }
            else
            {
                rep3 = rep2;
                rep2 = rep1;
                rep1 = rep0;
                length = DecodeLength(probs, LengthCoder, posState, ref range, ref code, input, ref inPos);
                state = NextState(state, 1);
                rep0 = DecodeDistance(probs, length, ref range, ref code, input, ref inPos);
            }

            length += MatchMinLength;
            if (rep0 >= (uint)(pos - dictionaryStart))
                throw Corrupt("LZMA match reaches before the start of the dictionary");
            if (length > end - pos)
                throw Corrupt("LZMA match runs past the end of its chunk");
            int source = pos - (int)rep0 - 1;
            if (rep0 + 1 >= (uint)length)
            {
                output.Slice(source, length).CopyTo(output[pos..]);
            }
            else
            {
                for (int i = 0; i < length; i++)
                    output[pos + i] = output[source + i]; // overlapping copy repeats the pattern
            }
            pos += length;
        }

        _state = state;
        (_rep0, _rep1, _rep2, _rep3) = (rep0, rep1, rep2, rep3);
        if (inPos != input.Length || code != 0)
            throw Corrupt("LZMA chunk does not end where its header says");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Bit(ref ushort probability, ref uint range, ref uint code, ReadOnlySpan<byte> input, ref int inPos)
    {
        uint p = probability;
        uint bound = (range >> 11) * p;
        uint bit;
        if (code < bound)
        {
            range = bound;
            probability = (ushort)(p + ((2048 - p) >> 5));
            bit = 0;
        }
        else
        {
            range -= bound;
            code -= bound;
            probability = (ushort)(p - (p >> 5));
            bit = 1;
        }
        if (range < TopValue)
            Shift(ref range, ref code, input, ref inPos);
        return bit;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Shift(ref uint range, ref uint code, ReadOnlySpan<byte> input, ref int inPos)
    {
        if ((uint)inPos >= (uint)input.Length)
            throw Corrupt("LZMA chunk is truncated");
        range <<= 8;
        code = (code << 8) | input[inPos++];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint BitTree(Span<ushort> probs, int offset, int bits, ref uint range, ref uint code, ReadOnlySpan<byte> input, ref int inPos)
    {
        uint m = 1;
        for (int i = 0; i < bits; i++)
            m = (m << 1) | Bit(ref probs[offset + (int)m], ref range, ref code, input, ref inPos);
        return m - (1u << bits);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ReverseBitTree(Span<ushort> probs, int offset, int bits, ref uint range, ref uint code, ReadOnlySpan<byte> input, ref int inPos)
    {
        uint m = 1, symbol = 0;
        for (int i = 0; i < bits; i++)
        {
            uint bit = Bit(ref probs[offset + (int)m], ref range, ref code, input, ref inPos);
            m = (m << 1) | bit;
            symbol |= bit << i;
        }
        return symbol;
    }

    /// <summary>Match length minus 2: 0–7 (low tree per posState), 8–15 (mid), 16–271 (high).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int DecodeLength(Span<ushort> probs, int coder, int posState, ref uint range, ref uint code, ReadOnlySpan<byte> input, ref int inPos)
    {
        if (Bit(ref probs[coder], ref range, ref code, input, ref inPos) == 0)
            return (int)BitTree(probs, coder + 2 + (posState << 3), 3, ref range, ref code, input, ref inPos);
        if (Bit(ref probs[coder + 1], ref range, ref code, input, ref inPos) == 0)
            return 8 + (int)BitTree(probs, coder + 2 + (PosStatesMax << 3) + (posState << 3), 3, ref range, ref code, input, ref inPos);
        return 16 + (int)BitTree(probs, coder + 2 + (2 * PosStatesMax << 3), 8, ref range, ref code, input, ref inPos);
    }

    /// <summary>Distance minus 1: a 6-bit slot, then context-coded, direct and aligned low bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint DecodeDistance(Span<ushort> probs, int length, ref uint range, ref uint code, ReadOnlySpan<byte> input, ref int inPos)
    {
        int lengthState = Math.Min(length, LengthToPosStates - 1);
        uint slot = BitTree(probs, PosSlot + (lengthState << 6), 6, ref range, ref code, input, ref inPos);
        if (slot < 4)
            return slot;
        int directBits = (int)(slot >> 1) - 1;
        uint distance = (2 | (slot & 1)) << directBits;
        if (slot < EndPosModelIndex)
            return distance + ReverseBitTree(probs, SpecPos + (int)(distance - slot), directBits, ref range, ref code, input, ref inPos);

        for (int i = directBits - AlignBits; i > 0; i--)
        {
            range >>= 1;
            uint bit = code >= range ? 1u : 0u;
            code -= range & (0u - bit);
            distance += bit << (AlignBits + i - 1);
            if (range < TopValue)
                Shift(ref range, ref code, input, ref inPos);
        }
        return distance + ReverseBitTree(probs, Align, AlignBits, ref range, ref code, input, ref inPos);
    }
}
