using System.Xml.Linq;

namespace MiniVmm.Sys.Tests.Repository;

/// <summary>The README's project graph against every .csproj's ProjectReferences, and the checker itself.</summary>
public sealed class ProjectGraphTests
{
    private static readonly string[] ProjectFolders = ["src", "firmware", "tools", "tests", "bench"];

    [Fact]
    public void EveryProjectReferenceFollowsTheWrittenGraph()
    {
        var graph = WrittenGraph();
        var references = ReadReferences(RepositoryFiles.Root).ToList();
        Assert.Contains(references, reference => reference == ("MiniVmm.Kvm", "MiniVmm.Sys")); // the files were read
        Assert.Empty(graph.Check(references));
    }

    [Fact]
    public void EveryProjectIsInTheWrittenGraph()
    {
        var graph = WrittenGraph();
        var projects = ProjectFiles(RepositoryFiles.Root).Select(Path.GetFileNameWithoutExtension).ToList();
        Assert.Contains("MiniVmm.Sys", projects);
        var unnamed = projects.Where(project => !graph.Knows(project!)).ToList();
        Assert.Empty(unnamed);
    }

    [Fact]
    public void TheWrittenGraphPointsDown() => Assert.Null(WrittenGraph().FindCycle());

    [Theory]
    [InlineData("MiniVmm.Sys", "MiniVmm.Machine")]
    [InlineData("MiniVmm.Wayland", "MiniVmm.Gpu")]
    [InlineData("MiniVmm.Kvm", "MiniVmm.Memory")]
    [InlineData("MiniVmm.GuestProxy", "MiniVmm.Kvm")]
    [InlineData("MiniVmm.Gpu", "MiniVmm.Gpu.Tests")]
    public void AMadeUpReferenceAgainstTheGraphIsReported(string project, string reference) =>
        Assert.Equal([$"{project} → {reference} is not allowed by the written graph"], WrittenGraph().Check([(project, reference)]));

    [Theory]
    [InlineData("MiniVmm.Machine", "MiniVmm.Sys")] // through Kvm
    [InlineData("MiniVmm.Gpu.Tests", "MiniVmm.Gpu")] // a pattern's rule
    [InlineData("MiniVmm.GuestProxy", "MiniVmm.CrossDomain")] // named before the project exists
    public void AReferenceDownTheGraphIsAllowed(string project, string reference) =>
        Assert.Empty(WrittenGraph().Check([(project, reference)]));

    [Fact]
    public void AProjectTheGraphDoesNotNameIsReported() =>
        Assert.Equal(["MiniVmm.Audio is not in the written graph"], WrittenGraph().Check([("MiniVmm.Audio", "MiniVmm.Sys")]));

    [Fact]
    public void ACycleInAWrittenGraphIsFound()
    {
        var graph = ProjectGraph.Parse("""
            <!-- project-graph:begin -->
            - `A` → `B`
            - `B` → `C` (prose with `A` is not a reference)
            - `C` → `A`
            <!-- project-graph:end -->
            """.Replace("\n            ", "\n", StringComparison.Ordinal));
        Assert.Equal("A → B → C → A", graph.FindCycle());
    }

    private static ProjectGraph WrittenGraph() => ProjectGraph.Parse(File.ReadAllText(Path.Combine(RepositoryFiles.Root, "README.md")));

    private static IEnumerable<string> ProjectFiles(string root) =>
        ProjectFolders.SelectMany(folder => Directory.EnumerateFiles(Path.Combine(root, folder), "*.csproj", SearchOption.AllDirectories))
            .Where(path => !path.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"));

    private static IEnumerable<(string Project, string Reference)> ReadReferences(string root) =>
        from file in ProjectFiles(root)
        from element in XDocument.Load(file).Descendants("ProjectReference")
        let include = (string?)element.Attribute("Include") ?? ""
        select (Path.GetFileNameWithoutExtension(file), Path.GetFileNameWithoutExtension(include.Replace('\\', '/')));
}
