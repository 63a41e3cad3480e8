using Iced.Intel;

namespace MiniVmm.Firmware;

/// <summary>
/// Checks for payloads that report a distinct exit code per failed step, so a failing test names the step
/// without a debugger. Each check costs one jump on success; the failure tail prints "FAIL n" and exits n.
/// </summary>
public static class PayloadChecks
{
    /// <summary>
    /// Continues when <paramref name="jumpIfOk"/> (a conditional jump of <see cref="PayloadBuilder.Asm"/>, e.g.
    /// <c>a.je</c>) is taken on the flags just set; otherwise fails with <paramref name="code"/>.
    /// </summary>
    public static void Require(this PayloadBuilder p, Action<Label> jumpIfOk, byte code)
    {
        var ok = p.Asm.CreateLabel();
        jumpIfOk(ok);
        p.Fail(code);
        p.Asm.Label(ref ok);
    }

    /// <summary>Prints "FAIL n" on COM1 and exits with n.</summary>
    public static void Fail(this PayloadBuilder p, byte code)
    {
        p.SerialText($"FAIL {code}\n");
        p.Exit(code);
    }
}
