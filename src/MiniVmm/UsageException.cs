namespace MiniVmm;

/// <summary>Bad user input: printed as one line, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
