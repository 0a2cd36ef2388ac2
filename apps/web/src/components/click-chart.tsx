import type { FileStats } from '@tagdrop/contracts';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatDate, formatDay } from '../lib/format';

export function ClickStats({ stats }: { stats: FileStats }) {
  const data = stats.daily.map((d) => ({ day: formatDay(d.date), clicks: d.clicks }));
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
        {data.length === 0 ? (
          <p className="empty">No clicks yet.</p>
        ) : (
          <ResponsiveContainer width="100%" height={220}>
            <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="var(--border)" />
              <XAxis dataKey="day" tick={{ fontSize: 11 }} interval="preserveStartEnd" minTickGap={16} />
              <YAxis allowDecimals={false} tick={{ fontSize: 11 }} width={40} />
              <Tooltip cursor={{ fill: 'var(--hover)' }} />
              <Bar
                dataKey="clicks"
                name="Clicks"
                fill="var(--accent)"
                radius={[3, 3, 0, 0]}
                isAnimationActive={false}
              />
            </BarChart>
          </ResponsiveContainer>
        )}
        <figcaption className="visually-hidden">Clicks per day over the last 30 days</figcaption>
      </figure>
    </section>
  );
}
