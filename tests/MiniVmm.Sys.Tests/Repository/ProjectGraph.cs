using System.Text.RegularExpressions;

namespace MiniVmm.Sys.Tests.Repository;

/// <summary>
/// The project graph as the README writes it, between <c>&lt;!-- project-graph:begin --&gt;</c> and
/// <c>&lt;!-- project-graph:end --&gt;</c>: one line per rule, "- `A` → `B`, `C`", where a left-hand name may use
/// <c>*</c> and any words before the first name or in parentheses are prose. A project may reference what its rules
/// name and, through them, everything those may reference.
/// </summary>
internal sealed partial class ProjectGraph
{
    private const string Begin = "<!-- project-graph:begin -->";
    private const string End = "<!-- project-graph:end -->";

    private readonly List<(Regex Project, string[] References)> _rules;
    private readonly List<string> _named; // every plain name the rules mention, in the order written

    private ProjectGraph(List<(Regex Project, string[] References)> rules, List<string> named)
    {
        _rules = rules;
        _named = named;
    }

    public static ProjectGraph Parse(string markdown)
    {
        var begin = markdown.IndexOf(Begin, StringComparison.Ordinal);
        var end = markdown.IndexOf(End, StringComparison.Ordinal);
        if (begin < 0 || end < begin)
            throw new FormatException($"no {Begin} ... {End} block");
        var rules = new List<(Regex, string[])>();
        var named = new List<string>();
        foreach (var line in markdown[(begin + Begin.Length)..end].Split('\n'))
        {
            var arrow = line.IndexOf('→', StringComparison.Ordinal);
            if (!line.StartsWith("- ", StringComparison.Ordinal) || arrow < 0)
                continue;
            var right = line[(arrow + 1)..];
            var prose = right.IndexOf('(', StringComparison.Ordinal);
            var references = Names(prose < 0 ? right : right[..prose]);
            foreach (var project in Names(line[..arrow]))
            {
                rules.Add((new Regex("^" + Regex.Escape(project).Replace(@"\*", "[^.]+", StringComparison.Ordinal) + "$"), references));
                named.Add(project);
            }
            named.AddRange(references);
        }
        return new ProjectGraph(rules, [.. named.Where(name => !name.Contains('*', StringComparison.Ordinal)).Distinct()]);
    }

    /// <summary>Whether some rule names <paramref name="project"/> on its left.</summary>
    public bool Knows(string project) => _rules.Exists(rule => rule.Project.IsMatch(project));

    /// <summary>Everything <paramref name="project"/> may reference: its rules' names and, recursively, theirs.</summary>
    public HashSet<string> Allowed(string project)
    {
        var allowed = new HashSet<string>();
        var next = new Stack<string>(Direct(project));
        while (next.TryPop(out var name))
        {
            if (allowed.Add(name))
            {
                foreach (var below in Direct(name))
                    next.Push(below);
            }
        }
        return allowed;
    }

    /// <summary>A cycle in the written graph ("A → B → A"), or null: a graph with one does not point down.</summary>
    public string? FindCycle()
    {
        var done = new HashSet<string>();
        foreach (var start in _named)
        {
            if (Visit(start, [], done) is { } cycle)
                return string.Join(" → ", cycle);
        }
        return null;
    }

    /// <summary>One line per reference the graph does not allow, and per project it does not name.</summary>
    public List<string> Check(IEnumerable<(string Project, string Reference)> references)
    {
        var problems = new List<string>();
        foreach (var (project, reference) in references)
        {
            if (!Knows(project))
                problems.Add($"{project} is not in the written graph");
            else if (!Allowed(project).Contains(reference))
                problems.Add($"{project} → {reference} is not allowed by the written graph");
        }
        return [.. problems.Distinct()];
    }

    private IEnumerable<string> Direct(string project) =>
        _rules.Where(rule => rule.Project.IsMatch(project)).SelectMany(rule => rule.References);

    private List<string>? Visit(string project, List<string> path, HashSet<string> done)
    {
        var seen = path.IndexOf(project);
        if (seen >= 0)
            return [.. path[seen..], project];
        if (done.Contains(project))
            return null;
        path.Add(project);
        foreach (var below in Direct(project))
        {
            if (Visit(below, path, done) is { } cycle)
                return cycle;
        }
        path.RemoveAt(path.Count - 1);
        done.Add(project);
        return null;
    }

    private static string[] Names(string text) => [.. BacktickedName().Matches(text).Select(match => match.Groups[1].Value)];

    [GeneratedRegex("`([A-Za-z0-9.*]+)`")]
    private static partial Regex BacktickedName();
}
