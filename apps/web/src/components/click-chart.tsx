import type { FileDetailStats } from '@tagdrop/contracts';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatDate, formatDay } from '../lib/format';

const DAYS = 30;

/** The last 30 UTC days, oldest first, with the server's counts and zero for days it left out. */
function last30Days(daily: FileDetailStats['daily']): { day: string; clicks: number }[] {
  const byDate = new Map(daily.map((d) => [d.date, d.clicks]));
  const today = new Date();
  const days: { day: string; clicks: number }[] = [];
  for (let i = DAYS - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i));
    const iso = d.toISOString().slice(0, 10);
    days.push({ day: formatDay(iso), clicks: byDate.get(iso) ?? 0 });
  }
  return days;
}

export function ClickStats({ stats }: { stats: FileDetailStats }) {
  const data = last30Days(stats.daily);
  const last30 = stats.daily.reduce((n, d) => n + d.clicks, 0);
  return (
    <section className="panel" aria-labelledby="stats-title">
      <h2 id="stats-title">Clicks</h2>
      <dl className="totals">
        <div>
          <dt>Total clicks</dt>
          <dd data-testid="total-clicks">{stats.clicks}</dd>
        </div>
        <div>
          <dt>Unique visitors</dt>
          <dd>{stats.unique_visitors}</dd>
        </div>
        <div>
          <dt>Last 30 days</dt>
          <dd>{last30}</dd>
        </div>
        <div>
          <dt>Last click</dt>
          <dd className="small">{formatDate(stats.last_click_at)}</dd>
        </div>
      </dl>
      <figure className="chart" data-testid="click-chart" aria-label="Clicks per day, last 30 days">
        {stats.clicks === 0 ? <p className="muted small">No clicks yet.</p> : null}
        <ResponsiveContainer width="100%" height={220}>
          <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="var(--border)" />
            <XAxis dataKey="day" tick={{ fontSize: 11 }} interval="preserveStartEnd" minTickGap={16} />
            <YAxis allowDecimals={false} tick={{ fontSize: 11 }} width={40} />
            <Tooltip cursor={{ fill: 'var(--hover)' }} />
            <Bar dataKey="clicks" name="Clicks" fill="var(--accent)" radius={[3, 3, 0, 0]} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
        <figcaption className="visually-hidden">Clicks per day over the last 30 days</figcaption>
      </figure>
    </section>
  );
}
