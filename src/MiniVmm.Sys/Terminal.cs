using Tmds.Linux;

namespace MiniVmm.Sys;

/// <summary>A terminal's settings (termios), as saved from it; opaque outside this layer.</summary>
public readonly struct TerminalMode
{
    internal TerminalMode(termios attributes) => Attributes = attributes;

    internal termios Attributes { get; }
}

/// <summary>isatty(3) and termios: what a console needs to take a terminal raw and give it back.</summary>
public static unsafe class Terminal
{
    public static bool IsTerminal(int fd) => LibC.isatty(fd) == 1;

    public static bool TryGetMode(int fd, out TerminalMode mode)
    {
        termios value;
        // SAFETY: value is a local the call fills in.
        bool ok = LibC.tcgetattr(fd, &value) == 0;
        mode = new TerminalMode(value);
        return ok;
    }

    public static bool TrySetMode(int fd, TerminalMode mode)
    {
        var attributes = mode.Attributes;
        // SAFETY: attributes is a local copy that outlives the call.
        return LibC.tcsetattr(fd, (int)LibC.TCSANOW, &attributes) == 0;
    }

    /// <summary>
    /// cfmakeraw(3) except for output: bytes in arrive one at a time, unechoed and untranslated, with no
    /// signal keys (Ctrl-C goes to the guest), 8 bits. Output processing (OPOST, '\n' -> "\r\n") is
    /// kept so that the VMM's own diagnostics on stderr still start at column 0; the guest's "\r\n" just
    /// gains a harmless extra '\r'.
    /// </summary>
    public static TerminalMode MakeRaw(TerminalMode mode)
    {
        var attributes = mode.Attributes;
        attributes.c_iflag &= ~(LibC.IGNBRK | LibC.BRKINT | LibC.PARMRK | LibC.ISTRIP | LibC.INLCR | LibC.IGNCR
            | LibC.ICRNL | LibC.IXON);
        attributes.c_lflag &= ~(LibC.ECHO | LibC.ECHONL | LibC.ICANON | LibC.ISIG | LibC.IEXTEN);
        attributes.c_cflag &= ~(LibC.CSIZE | LibC.PARENB);
        attributes.c_cflag |= LibC.CS8;
        attributes.c_cc[LibC.VMIN] = 1;
        attributes.c_cc[LibC.VTIME] = 0;
        return new TerminalMode(attributes);
    }
}
