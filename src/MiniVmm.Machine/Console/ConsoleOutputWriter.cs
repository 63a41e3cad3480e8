using MiniVmm.Machine.Devices;

namespace MiniVmm.Machine.Console;

/// <summary>
/// Copies the guest's console output to a stream (the terminal or a file) on its own thread. The UART
/// hands over one byte per THR write; the writer thread takes everything that has accumulated and
/// writes it with one call. An interactive user therefore sees each character as soon as the writer
/// wakes, while pouring output (a boot log) is written in large batches instead of one write(2) per
/// byte. The buffer is bounded: when the stream cannot keep up (a stopped terminal, a full pipe) the
/// vCPU that writes THR waits, as a guest waits on a real serial line. If the stream fails (the reader
/// of a pipe went away), later output is discarded and <see cref="Error"/> says why.
/// </summary>
public sealed class ConsoleOutputWriter : ISerialOutput, IDisposable
{
    public const int BufferSize = 64 * 1024;
    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(2);

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly Thread _thread;

    // _lock is a Monitor (for Wait/PulseAll) and guards every field below.
    private readonly object _lock = new();
    private byte[] _pending = new byte[BufferSize];
    private int _pendingLength;
    private byte[] _spare = new byte[BufferSize];  // the buffer the writer thread is writing, or idle
    private bool _writing;
    private bool _stopping;
    private Exception? _error;

    public ConsoleOutputWriter(Stream stream, bool ownsStream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _ownsStream = ownsStream;
        _thread = new Thread(WriterLoop) { IsBackground = true, Name = "console output" };
        _thread.Start();
    }

    /// <summary>The exception that made the writer give up, or null.</summary>
    public Exception? Error
    {
        get
        {
            lock (_lock)
                return _error;
        }
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            while (!data.IsEmpty && !_stopping && _error is null)
            {
                if (_pendingLength == BufferSize)
                {
                    Monitor.Wait(_lock); // back-pressure: the writer thread pulses after each batch
                    continue;
                }
                int count = Math.Min(data.Length, BufferSize - _pendingLength);
                data[..count].CopyTo(_pending.AsSpan(_pendingLength));
                if (_pendingLength == 0)
                    Monitor.PulseAll(_lock); // the writer may be asleep waiting for output
                _pendingLength += count;
                data = data[count..];
            }
        }
    }

    /// <summary>Waits until everything written so far has reached the stream (or the stream failed).</summary>
    public void Flush()
    {
        lock (_lock)
        {
            while ((_pendingLength > 0 || _writing) && _error is null && _thread.IsAlive)
                Monitor.Wait(_lock, 100);
        }
    }

    /// <summary>Writes what is pending (waiting at most a couple of seconds for a stuck stream) and stops.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_stopping)
                return;
            _stopping = true;
            Monitor.PulseAll(_lock);
        }
        bool finished = _thread.Join(DisposeTimeout);
        // A thread stuck in a write keeps using the stream, so only close it once the thread is gone.
        if (finished && _ownsStream)
            _stream.Dispose();
    }

    private void WriterLoop()
    {
        while (true)
        {
            byte[] batch;
            int length;
            lock (_lock)
            {
                _writing = false;
                Monitor.PulseAll(_lock); // wake blocked producers and Flush
                while (_pendingLength == 0 && !_stopping)
                    Monitor.Wait(_lock);
                if (_pendingLength == 0)
                    return;
                batch = _pending;
                length = _pendingLength;
                _pending = _spare;
                _pendingLength = 0;
                _spare = batch;
                _writing = true;
            }
            try
            {
                _stream.Write(batch, 0, length);
                _stream.Flush();
            }
            catch (Exception e) // the guest must keep running whatever happens to our output
            {
                lock (_lock)
                {
                    _error = e;
                    _writing = false;
                    _pendingLength = 0;
                    Monitor.PulseAll(_lock);
                }
                return;
            }
        }
    }
}
