using System.Buffers.Binary;

namespace MiniVmm.Boot.Compression;

/// <summary>
/// Decoder for the xz "x86" branch/call/jump filter (filter id 0x04), which the kernel build applies
/// before LZMA2 (<c>xz --x86 --lzma2</c>). The encoder turned the rel32 operand of E8 (CALL) and E9
/// (JMP) opcodes into absolute targets so repeated calls compress better; decoding subtracts the
/// position again. Which E8/E9 bytes were converted is decided by the same heuristic on both sides:
/// the operand's top byte must be 0x00 or 0xFF (a plausible near displacement), and a recent E8/E9
/// within the previous three bytes vetoes or shapes the conversion (the "previous mask").
/// SharpCompress 0.50.8 ships this filter but its output is wrong on the Debian kernel (block CRC
/// mismatch from the first CALL on), so MiniVmm runs its own pass over each whole block.
/// </summary>
internal static class X86BcjFilter
{
    // Indexed by the 3-bit mask of E8/E9 bytes seen in the three bytes before the current one.
    private static ReadOnlySpan<bool> MaskAllowsConversion => [true, true, true, false, true, false, false, false];
    private static ReadOnlySpan<byte> MaskToByteIndex => [0, 1, 2, 2, 3, 3, 3, 3];

    private static bool IsNearDisplacementByte(byte b) => b == 0x00 || b == 0xFF;

    /// <summary>Decodes one xz block's output in place; <paramref name="startOffset"/> comes from the filter properties.</summary>
    public static void Decode(Span<byte> data, uint startOffset)
    {
        // The last four bytes can never hold a whole operand and stay unconverted.
        int limit = data.Length - 4;
        uint mask = 0;
        int previous = -1;
        for (int i = 0; i < limit; i++)
        {
            if ((data[i] & 0xFE) != 0xE8)
                continue;

            int distance = i - previous;
            if (distance > 3)
            {
                mask = 0;
            }
            else
            {
                mask = (mask << (distance - 1)) & 7;
                if (mask != 0)
                {
                    byte b = data[i + 4 - MaskToByteIndex[(int)mask]];
                    if (!MaskAllowsConversion[(int)mask] || IsNearDisplacementByte(b))
                    {
                        previous = i;
                        mask = (mask << 1) | 1;
                        continue;
                    }
                }
            }
            previous = i;

            if (!IsNearDisplacementByte(data[i + 4]))
            {
                mask = (mask << 1) | 1;
                continue;
            }

            var operand = data.Slice(i + 1, 4);
            uint source = BinaryPrimitives.ReadUInt32LittleEndian(operand);
            uint destination;
            while (true)
            {
                destination = source - (startOffset + (uint)i + 5);
                if (mask == 0)
                    break;
                int shift = MaskToByteIndex[(int)mask] * 8;
                if (!IsNearDisplacementByte((byte)(destination >> (24 - shift))))
                    break;
                source = destination ^ ((1u << (32 - shift)) - 1);
            }
            // Sign-extend from bit 24 so the top byte is again 0x00 or 0xFF.
            destination &= 0x01FF_FFFF;
            destination |= 0u - (destination & 0x0100_0000);
            BinaryPrimitives.WriteUInt32LittleEndian(operand, destination);
            i += 4;
        }
    }
}
