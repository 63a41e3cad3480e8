namespace MiniVmm.Wayland;

/// <summary>Decodes a message body for one object and hands it to a handler (the generated Dispatch* methods).</summary>
public delegate WireError MessageDispatcher(uint self, ushort opcode, ref WireReader reader);
