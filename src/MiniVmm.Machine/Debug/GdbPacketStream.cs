using System.Text;

namespace MiniVmm.Machine.Debug;

/// <summary>What arrived from gdb: a packet (its payload, checksum verified and unescaped) or a Ctrl-C.</summary>
public readonly record struct GdbInput(string? Packet)
{
    public static GdbInput Interrupt { get; } = new(null);
    public bool IsInterrupt => Packet is null;
}

/// <summary>
/// The framing of the GDB Remote Serial Protocol: <c>$payload#xx</c> with a modulo-256 checksum in two
/// hex digits, <c>}</c> escaping (the next byte XOR 0x20), <c>+</c>/<c>-</c> acknowledgements until
/// QStartNoAckMode, and a bare 0x03 byte for Ctrl-C. Reads and writes one stream; knows no commands.
/// </summary>
public sealed class GdbPacketStream(Stream stream)
{
    private const byte Start = (byte)'$', End = (byte)'#', Escape = (byte)'}', Ack = (byte)'+', Nack = (byte)'-', CtrlC = 0x03;
    /// <summary>The largest payload we accept (and announce as PacketSize): a 'G' with every register fits easily.</summary>
    public const int MaxPayload = 16384;
    private readonly byte[] _one = new byte[1];

    /// <summary>False once gdb sent QStartNoAckMode and we answered OK: no more '+' either way.</summary>
    public bool Acknowledging { get; set; } = true;

    /// <summary>
    /// The next packet or Ctrl-C; null when the connection closed. A packet with a bad checksum is answered
    /// with '-' (gdb resends it) and skipped; stray acknowledgements and noise between packets are skipped.
    /// </summary>
    public GdbInput? Read()
    {
        while (true)
        {
            int first = ReadByte();
            if (first < 0)
                return null;
            if (first == CtrlC)
                return GdbInput.Interrupt;
            if (first != Start)
                continue;
            var payload = new List<byte>();
            byte sum = 0;
            int next;
            while ((next = ReadByte()) >= 0 && next != End)
            {
                sum += (byte)next;
                if (payload.Count <= MaxPayload)
                    payload.Add((byte)next);
            }
            int high = ReadByte(), low = ReadByte();
            if (next < 0 || low < 0)
                return null;
            bool valid = payload.Count <= MaxPayload && TryHexDigit(high, out int h) && TryHexDigit(low, out int l) && ((h << 4) | l) == sum;
            if (Acknowledging)
                WriteRaw([valid ? Ack : Nack]);
            if (valid)
                return new GdbInput(Unescape(payload));
        }
    }

    /// <summary>Sends one packet; while acknowledging, resends it until gdb answers '+' (at most a few times).</summary>
    public void Write(string payload)
    {
        var frame = Frame(payload);
        for (int attempt = 0; attempt < 5; attempt++)
        {
            WriteRaw(frame);
            if (!Acknowledging)
                return;
            int answer;
            do
                answer = ReadByte();
            while (answer >= 0 && answer != Ack && answer != Nack);
            if (answer != Nack)
                return; // '+' or a closed connection
        }
    }

    /// <summary><c>$payload#xx</c>, with the bytes the framing reserves escaped.</summary>
    public static byte[] Frame(string payload)
    {
        var bytes = new List<byte>(payload.Length + 4) { Start };
        byte sum = 0;
        foreach (byte b in Encoding.Latin1.GetBytes(payload))
        {
            if (b is Start or End or Escape or (byte)'*')
            {
                bytes.Add(Escape);
                sum += Escape;
                bytes.Add((byte)(b ^ 0x20));
                sum += (byte)(b ^ 0x20);
            }
            else
            {
                bytes.Add(b);
                sum += b;
            }
        }
        bytes.Add(End);
        bytes.AddRange(Encoding.ASCII.GetBytes(sum.ToString("x2")));
        return [.. bytes];
    }

    private static string Unescape(List<byte> payload)
    {
        var bytes = new List<byte>(payload.Count);
        for (int i = 0; i < payload.Count; i++)
            bytes.Add(payload[i] == Escape && i + 1 < payload.Count ? (byte)(payload[++i] ^ 0x20) : payload[i]);
        return Encoding.Latin1.GetString([.. bytes]);
    }

    private static bool TryHexDigit(int c, out int value)
    {
        value = c switch
        {
            >= '0' and <= '9' => c - '0',
            >= 'a' and <= 'f' => c - 'a' + 10,
            >= 'A' and <= 'F' => c - 'A' + 10,
            _ => -1,
        };
        return value >= 0;
    }

    private int ReadByte()
    {
        try
        {
            return stream.Read(_one, 0, 1) == 1 ? _one[0] : -1;
        }
        catch (IOException)
        {
            return -1;
        }
        catch (ObjectDisposedException)
        {
            return -1;
        }
    }

    private void WriteRaw(byte[] bytes)
    {
        try
        {
            stream.Write(bytes);
            stream.Flush();
        }
        catch (IOException)
        {
            // gdb went away: the next Read reports the closed connection.
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
