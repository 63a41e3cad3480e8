namespace MiniVmm.Sys.Tests;

public sealed class EventLoopTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public void CallbacksRunOnTheLoopThreadOncePerDrainedSignal()
    {
        using var loop = new EventLoop("test");
        using var eventFd = new EventFd(nonBlocking: true);
        using var ran = new SemaphoreSlim(0);
        int thread = 0;
        using var registration = loop.AddEventFd(eventFd, () =>
        {
            thread = Environment.CurrentManagedThreadId;
            Assert.True(loop.IsLoopThread);
            ran.Release();
        });
        eventFd.Signal();
        eventFd.Signal(); // both counts are drained by one read: one callback
        loop.Start();
        Assert.True(ran.Wait(Wait));
        Assert.NotEqual(Environment.CurrentManagedThreadId, thread);
        Assert.False(ran.Wait(TimeSpan.FromMilliseconds(100)));
        eventFd.Signal();
        Assert.True(ran.Wait(Wait));
    }

    [Fact]
    public void ARemovedRegistrationIsNotCalled()
    {
        using var loop = new EventLoop("test");
        loop.Start();
        using var first = new EventFd(nonBlocking: true);
        using var second = new EventFd(nonBlocking: true);
        int calls = 0;
        using var done = new SemaphoreSlim(0);
        var registration = loop.AddEventFd(first, () => Interlocked.Increment(ref calls));
        using var marker = loop.AddEventFd(second, () => done.Release());
        registration.Dispose();
        first.Signal();
        second.Signal(); // processed after (or with) first: by then first's callback would have run
        Assert.True(done.Wait(Wait));
        Assert.Equal(0, Volatile.Read(ref calls));
        registration.Dispose(); // idempotent
    }

    [Fact]
    public void AThrowingCallbackGoesToTheErrorHandlerAndTheLoopKeepsRunning()
    {
        var errors = new List<Exception>();
        using var reported = new SemaphoreSlim(0);
        using var loop = new EventLoop("test", error => { lock (errors) errors.Add(error); reported.Release(); });
        loop.Start();
        using var eventFd = new EventFd(nonBlocking: true);
        using var registration = loop.AddEventFd(eventFd, () => throw new InvalidOperationException("device bug"));
        eventFd.Signal();
        Assert.True(reported.Wait(Wait));
        eventFd.Signal();
        Assert.True(reported.Wait(Wait));
        lock (errors)
            Assert.All(errors, e => Assert.Equal("device bug", e.Message));
    }

    [Fact]
    public void WithoutAHandlerAThrowingCallbackStopsTheLoopAndIsKept()
    {
        using var loop = new EventLoop("test");
        loop.Start();
        using var eventFd = new EventFd(nonBlocking: true);
        using var registration = loop.AddEventFd(eventFd, () => throw new InvalidOperationException("device bug"));
        eventFd.Signal();
        var deadline = DateTime.UtcNow + Wait;
        while (loop.Failure is null && DateTime.UtcNow < deadline)
            Thread.Sleep(10);
        Assert.Equal("device bug", loop.Failure?.Message);
    }

    [Fact]
    public void StopReturnsAndDisposeIsIdempotent()
    {
        var loop = new EventLoop("test");
        loop.Start();
        loop.Stop();
        loop.Dispose();
        loop.Dispose();
        Assert.Throws<ObjectDisposedException>(loop.Start);
    }
}
