using System.Globalization;
using MiniVmm.CrossDomain;

namespace MiniVmm.GuestProxy;

/// <summary>
/// The command line of the proxy's two programs (minivmm-guest-proxy in the guest, minivmm-proxy-host on the host):
/// "--NAME VALUE" options, among them --channel N, the cross-domain channel type INIT asks for (1 by default).
/// </summary>
public sealed class ProxyCommandLine
{
    private readonly Dictionary<string, string> _values = [];

    public uint Channel { get; private set; } = CrossDomainConstants.ChannelTypeWayland;

    /// <summary>The value given for <paramref name="option"/>, or null.</summary>
    public string? this[string option] => _values.GetValueOrDefault(option);

    /// <summary>
    /// <paramref name="args"/> as options named in <paramref name="options"/> or --channel; null, with a line on stderr,
    /// at the first argument that is neither (or lacks its value).
    /// </summary>
    public static ProxyCommandLine? Parse(string program, string[] args, params string[] options)
    {
        var line = new ProxyCommandLine();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--channel" && i + 1 < args.Length && uint.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var channel))
                line.Channel = channel;
            else if (options.Contains(args[i]) && i + 1 < args.Length)
                line._values[args[i]] = args[i + 1];
            else
            {
                Console.Error.WriteLine($"{program}: unknown argument {args[i]}");
                return null;
            }
            i++;
        }
        return line;
    }
}
