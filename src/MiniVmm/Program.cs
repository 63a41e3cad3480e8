using System.CommandLine;
using MiniVmm;

return Cli.Run(args);
