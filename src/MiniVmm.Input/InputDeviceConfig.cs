using System.Buffers.Binary;
using System.Text;

namespace MiniVmm.Input;

/// <summary>
/// What a virtio-input device says about itself: name, serial, ids, and per event type the codes it sends, plus the
/// range of each absolute axis. The driver writes select and subsel, then reads size and the answer
/// (virtio_input_config: select[1] subsel[1] size[1] reserved[5] u[128]).
/// </summary>
public sealed class InputDeviceConfig
{
    public const int UnionOffset = 8, UnionSize = 128, Size = UnionOffset + UnionSize;
    private readonly Dictionary<ushort, SortedSet<ushort>> _codes = [];
    private readonly Dictionary<ushort, (uint Min, uint Max)> _axes = [];

    public InputDeviceConfig(string name, string serial, ushort product)
    {
        Name = name;
        Serial = serial;
        Product = product;
    }

    public string Name { get; }
    public string Serial { get; }
    public ushort Product { get; }

    public InputDeviceConfig With(ushort type, params IEnumerable<ushort> codes)
    {
        if (!_codes.TryGetValue(type, out var set))
            _codes[type] = set = [];
        set.UnionWith(codes);
        return this;
    }

    public InputDeviceConfig WithAxis(ushort axis, uint min, uint max)
    {
        _axes[axis] = (min, max);
        return With(EventTypes.Abs, axis);
    }

    /// <summary>Whether events of this type and code belong to the device (the rest is never sent).</summary>
    public bool Sends(ushort type, ushort code) => type == EventTypes.Syn || (_codes.TryGetValue(type, out var set) && set.Contains(code));

    /// <summary>Fills <paramref name="union"/> (128 bytes) for a select/subsel pair; returns the size field.</summary>
    public byte Answer(byte select, byte subsel, Span<byte> union)
    {
        union.Clear();
        switch (select)
        {
            case ConfigSelect.IdName:
                return String(Name, union);
            case ConfigSelect.IdSerial:
                return String(Serial, union);
            case ConfigSelect.IdDevids:
                BinaryPrimitives.WriteUInt16LittleEndian(union, InputCodes.BusVirtual);
                BinaryPrimitives.WriteUInt16LittleEndian(union[2..], 0x1AF4); // the virtio vendor id
                BinaryPrimitives.WriteUInt16LittleEndian(union[4..], Product);
                BinaryPrimitives.WriteUInt16LittleEndian(union[6..], 1);
                return 8;
            case ConfigSelect.EvBits when subsel != 0 && _codes.TryGetValue(subsel, out var codes):
                byte size = 0;
                foreach (ushort code in codes)
                {
                    if (code / 8 >= UnionSize)
                        continue;
                    union[code / 8] |= (byte)(1 << (code % 8));
                    size = (byte)Math.Max(size, code / 8 + 1);
                }
                return size;
            case ConfigSelect.AbsInfo when _axes.TryGetValue(subsel, out var range):
                // virtio_input_absinfo: min, max, fuzz, flat, res (le32 each).
                BinaryPrimitives.WriteUInt32LittleEndian(union, range.Min);
                BinaryPrimitives.WriteUInt32LittleEndian(union[4..], range.Max);
                return 20;
            default:
                return 0; // PROP_BITS (none), unknown selects and types: size 0 means "nothing"
        }
    }

    private static byte String(string text, Span<byte> union)
    {
        int length = Encoding.UTF8.GetBytes(text.AsSpan(0, Math.Min(text.Length, UnionSize)), union);
        return (byte)length;
    }
}
