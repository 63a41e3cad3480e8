using MiniVmm.Machine;

namespace MiniVmm.Gpu.Tests.CrossDomain;

/// <summary>--trace xdomain and --trace winsrv are CLI words of their own, and part of "all".</summary>
public sealed class TraceCategoryTests
{
    [Fact]
    public void XdomainAndWinsrvParse()
    {
        Assert.Equal(TraceCategories.Xdomain | TraceCategories.Winsrv, Tracer.Parse(["xdomain,winsrv"]));
        Assert.True(Tracer.Parse(["all"]).HasFlag(TraceCategories.Xdomain | TraceCategories.Winsrv));
        var error = Assert.Throws<ArgumentException>(() => Tracer.Parse(["xdomains"]));
        Assert.Contains("xdomain, winsrv", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LinesCarryTheCategoryName()
    {
        using var output = new StringWriter();
        var tracer = new Tracer(TraceCategories.Xdomain, output);
        tracer.Write(TraceCategories.Xdomain, "xdomain ctx 2 POLL");
        tracer.Write(TraceCategories.Winsrv, "not enabled");
        Assert.Equal("[trace xdomain] xdomain ctx 2 POLL" + Environment.NewLine, output.ToString());
    }
}
