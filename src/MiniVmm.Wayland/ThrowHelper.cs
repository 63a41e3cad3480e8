using System.Diagnostics.CodeAnalysis;

namespace MiniVmm.Wayland;

/// <summary>One-line throws for caller bugs, so hot methods stay small. Peer input never reaches these.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void Argument(string message, string parameter) => throw new ArgumentException(message, parameter);

    [DoesNotReturn]
    public static void ArgumentOutOfRange(string parameter) => throw new ArgumentOutOfRangeException(parameter);

    [DoesNotReturn]
    public static void InvalidOperation(string message) => throw new InvalidOperationException(message);
}
